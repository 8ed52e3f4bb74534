-- trainer-service owns the 'trainer' schema: runs, their state transitions, every optimiser step and checkpoint.

create table training_run (
    id                 varchar(140)     primary key,
    recipe_id          varchar(100)     not null,
    recipe_hash        varchar(64)      not null,
    method             varchar(16)      not null,
    model              varchar(1000)    not null,
    state              varchar(16)      not null,
    device             varchar(64),
    dtype              varchar(16),
    step               bigint           not null default 0,
    epoch              double precision,
    tokens_seen        bigint           not null default 0,
    learning_rate      double precision,
    last_loss          double precision,
    grad_norm          double precision,
    tokens_per_second  double precision,
    max_steps          bigint,
    start_offsets      varchar(2000),
    best_step          bigint,
    best_valid_loss    double precision,
    failure            text,
    created_at         timestamp with time zone not null,
    updated_at         timestamp with time zone not null
);
create index training_run_recipe on training_run (recipe_id);

create table run_transition (
    id          bigserial    primary key,
    run_id      varchar(140) not null references training_run (id) on delete cascade,
    from_state  varchar(16),
    to_state    varchar(16)  not null,
    reason      text,
    at          timestamp with time zone not null
);
create index run_transition_run on run_transition (run_id);

create table training_step (
    id              bigserial        primary key,
    run_id          varchar(140)     not null references training_run (id) on delete cascade,
    step            bigint           not null,
    loss            double precision not null,
    learning_rate   double precision not null,
    grad_norm       double precision not null,
    trained_tokens  bigint           not null,
    seconds         double precision not null,
    at              timestamp with time zone not null,
    unique (run_id, step)
);

create table checkpoint (
    id                bigserial        primary key,
    run_id            varchar(140)     not null references training_run (id) on delete cascade,
    step              bigint           not null,
    location          varchar(2000)    not null,
    format            varchar(16)      not null,
    checksum          varchar(80)      not null,
    tokens_seen       bigint           not null,
    train_loss        double precision not null,
    consumed_offsets  varchar(2000)    not null,
    start_offsets     varchar(2000)    not null,
    trained_offsets   varchar(2000)    not null,
    status            varchar(16)      not null,
    published         boolean          not null default false,
    created_at        timestamp with time zone not null,
    unique (run_id, step)
);

-- Batches a run read but could not train (dead letters): lineage leaves them out.
create table rejected_batch (
    id           bigserial    primary key,
    run_id       varchar(140) not null references training_run (id) on delete cascade,
    partition_no integer      not null,
    offset_no    bigint       not null,
    reason       text         not null,
    at           timestamp with time zone not null,
    unique (run_id, partition_no, offset_no)
);

-- Evaluations of a run's checkpoints (from eval-service, on the evaluations topic): early stopping and the best
-- checkpoint are decided from them.
create table run_evaluation (
    id              bigserial        primary key,
    run_id          varchar(140)     not null references training_run (id) on delete cascade,
    step            bigint           not null,
    split           varchar(8)       not null,
    loss            double precision not null,
    perplexity      double precision,
    token_accuracy  double precision,
    evaluated_at    timestamp with time zone,
    unique (run_id, step, split)
);
