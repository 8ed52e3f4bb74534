-- A recipe's base model is scored once per base identity (BaseIdentity: the model, tokenizer, 4-bit settings, chat
-- template and generation settings of a recipe version), not once per recipe: a version that changes the model has a
-- base of its own, and its checkpoints are compared with that one.
--
-- checkpoint.base_identity: for the base's row (checksum 'base', step 0), which base it is. Null for a checkpoint
-- (its evaluations name the base they were scored over) and for a base scored before bases had identities.
-- evaluation.base_identity: the base these scores belong to: the base's own scores, or a checkpoint applied to it.
alter table checkpoint add column base_identity varchar(64);
alter table evaluation add column base_identity varchar(64);

-- A checkpoint once per (recipe, checksum) as before; a base once per (recipe, identity).
alter table checkpoint drop constraint checkpoint_checksum;
create unique index checkpoint_checksum on checkpoint (recipe_id, checksum) where checksum <> 'base';
create unique index checkpoint_base on checkpoint (recipe_id, base_identity) where checksum = 'base';
