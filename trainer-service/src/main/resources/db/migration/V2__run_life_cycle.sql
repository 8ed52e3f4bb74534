-- A run ended because its recipe version was replaced or deleted (not stopped by a user) trains again by itself
-- when its version is active again.
alter table training_run add column retired boolean not null default false;

-- Evaluations that carry an error (eval-service could not score the checkpoint) are recorded too: a checkpoint's
-- evaluation has arrived, whatever it says, before save_total_limit rotates it away.
alter table run_evaluation alter column loss drop not null;
alter table run_evaluation add column error text;
