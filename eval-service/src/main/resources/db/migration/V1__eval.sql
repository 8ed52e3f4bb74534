-- eval-service owns the 'eval' schema: each recipe's validation and test sets, the checkpoints it was told of, their
-- evaluations (one per split; the base model's, step 0, once per size of the set) and the generations behind them.

create table eval_example (
    id                  bigserial     primary key,
    recipe_id           varchar(100)  not null,
    example_key         varchar(500)  not null,
    split               varchar(8)    not null,
    position            integer       not null,
    dataset             varchar(200),
    conversation_id     varchar(400)  not null,
    input_ids           integer[]     not null,
    labels              integer[]     not null,
    prompt_tokens       integer       not null,
    reference_response  text,
    received_at         timestamp with time zone not null,
    constraint eval_example_key unique (recipe_id, example_key),
    constraint eval_example_position unique (recipe_id, split, position)
);

-- Where a reader of a topic stands, stored with what it read in the same transaction: a restart seeks here, so
-- nothing is read twice or lost. The reader is a recipe id (its eval-examples) or 'checkpoints'.
create table read_position (
    reader       varchar(100)  not null,
    topic        varchar(200)  not null,
    partition    integer       not null,
    next_offset  bigint        not null,
    primary key (reader, topic, partition)
);

create table checkpoint (
    id            bigserial     primary key,
    recipe_id     varchar(100)  not null,
    run_id        varchar(140)  not null,
    step          bigint        not null,
    location      varchar(2000),
    format        varchar(32),
    checksum      varchar(80)   not null,
    tokens_seen   bigint,
    train_loss    double precision,
    status        varchar(16)   not null,
    detail        text,
    received_at   timestamp with time zone not null,
    scored_at     timestamp with time zone,
    constraint checkpoint_checksum unique (recipe_id, checksum)
);
create index checkpoint_recipe_status on checkpoint (recipe_id, status);

create table evaluation (
    id                  bigserial        primary key,
    checkpoint_id       bigint           not null references checkpoint (id) on delete cascade,
    recipe_id           varchar(100)     not null,
    run_id              varchar(140)     not null,
    step                bigint           not null,
    checksum            varchar(80)      not null,
    location            varchar(2000),
    split               varchar(8)       not null,
    examples            bigint           not null,
    tokens              bigint           not null,
    loss                double precision,
    perplexity          double precision,
    token_accuracy      double precision,
    generation_metrics  text,
    error               text,
    seconds             double precision,
    evaluated_at        timestamp with time zone not null,
    published           boolean          not null default false,
    constraint evaluation_once unique (checkpoint_id, split, examples)
);
create index evaluation_recipe on evaluation (recipe_id, step);

create table evaluation_sample (
    id                bigserial        primary key,
    evaluation_id     bigint           not null references evaluation (id) on delete cascade,
    example_key       varchar(500)     not null,
    prompt            text             not null,
    reference         text,
    generation        text             not null,
    finish            varchar(16)      not null,
    generated_tokens  integer          not null,
    reference_tokens  integer,
    exact_match       boolean,
    rouge_l           double precision,
    token_reduction   double precision
);
create index evaluation_sample_evaluation on evaluation_sample (evaluation_id);
