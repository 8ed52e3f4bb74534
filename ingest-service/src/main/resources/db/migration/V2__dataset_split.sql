-- A dataset's split belongs to the dataset: its first ingestion fixes it, and every later ingestion (any door)
-- follows it. Datasets created before this column existed get theirs from their next ingestion.
alter table dataset add column split_policy varchar(200);
alter table dataset add column split_seed bigint;

-- Size-capped splits count a dataset's published conversations per split before each chunk is placed.
create index seen_conversation_dataset_split on seen_conversation (dataset, split);
