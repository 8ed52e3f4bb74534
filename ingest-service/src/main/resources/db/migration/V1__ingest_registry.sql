-- The ingest service's own tables, in its own schema. Flyway owns the schema; Hibernate only validates it.

-- A dataset: a name that conversations are ingested into, from one or more sources.
create table dataset (
    id              bigserial primary key,
    name            varchar(200) not null unique,
    created_at      timestamp with time zone not null,
    last_ingest_at  timestamp with time zone
);

-- One source of a dataset: an upload label, an imported file, or the raw topic.
create table dataset_source (
    id               bigserial primary key,
    dataset_id       bigint not null references dataset (id),
    source           varchar(500) not null,
    split_policy     varchar(200),
    first_ingest_at  timestamp with time zone not null,
    last_ingest_at   timestamp with time zone not null,
    unique (dataset_id, source)
);

-- What happened to the records of a source, per split and outcome. For every source,
-- records in = published + rejected + duplicate + unused.
create table source_count (
    id         bigserial primary key,
    source_id  bigint not null references dataset_source (id),
    split      varchar(8) not null,   -- train, valid, test, or none (rejected, filtered)
    outcome    varchar(16) not null,  -- published, rejected, duplicate, unused
    records    bigint not null,
    unique (source_id, split, outcome)
);

-- Input formats seen in a source, with how many records were read as each.
create table source_format (
    id         bigserial primary key,
    source_id  bigint not null references dataset_source (id),
    format     varchar(32) not null,
    records    bigint not null,
    unique (source_id, format)
);

-- One upload or import, with its receipt.
create table ingestion (
    id            uuid primary key,
    dataset       varchar(200) not null,
    source        varchar(500) not null,
    door          varchar(16) not null,
    split_policy  varchar(200),
    status        varchar(16) not null,   -- running, completed, failed
    started_at    timestamp with time zone not null,
    finished_at   timestamp with time zone,
    records       bigint not null,
    published     bigint not null,
    rejected      bigint not null,
    duplicates    bigint not null,
    unused        bigint not null,
    error         varchar(2000)
);
create index ingestion_dataset on ingestion (dataset, started_at desc);

-- Every conversation ever published, by content id: exact duplicates are found by id, near duplicates by
-- MinHash band keys (GIN index for the overlap operator &&) confirmed with the stored signature.
create table seen_conversation (
    id             varchar(64) primary key,
    dataset        varchar(200) not null,
    split          varchar(8) not null,
    signature      integer[],
    bands          bigint[],
    first_seen_at  timestamp with time zone not null
);
create index seen_conversation_bands on seen_conversation using gin (bands);
