-- pbsync schema: the only place it is written, for SQLite and PostgreSQL.
--
-- Each "-- version N" section is one migration, applied in order inside a
-- transaction when the database's version (SQLite's PRAGMA user_version,
-- PostgreSQL's pbsync_schema row) is below N.  Never edit a released
-- section: add a new one.
--
-- SQLite reads this file as it is.  PostgreSQL runs the same sections with
-- the types and clauses its DDL spells otherwise rewritten (pg_words in
-- src/store/store.c: INTEGER PRIMARY KEY is an identity column, REAL is
-- DOUBLE PRECISION, WITHOUT ROWID goes...), without the lines between
-- "-- [sqlite]" and "-- [end]", and with the lines "--pg ..." (comments
-- to SQLite) taken in.  Write new sections in what both engines take.

-- version 1

CREATE TABLE integration (
	id			TEXT PRIMARY KEY
				    CHECK (length(id) = 32 AND id NOT GLOB '*[^0-9a-f]*'),
	name			TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	column_label		TEXT NOT NULL CHECK (length(column_label) BETWEEN 1 AND 10),
	pb_token		TEXT NOT NULL,		-- sealed (crypto_seal)
	pb_token_tail		TEXT NOT NULL,		-- last 4 characters, for display
	gl_base_url		TEXT NOT NULL,
	gl_token		TEXT NOT NULL,		-- sealed
	gl_token_tail		TEXT NOT NULL,
	gl_project_id		INTEGER NOT NULL,
	gl_project_path		TEXT NOT NULL,
	gl_project_url		TEXT NOT NULL DEFAULT '',
	pb_plugin_id		TEXT,			-- Productboard plugin integration
	pb_webhook_id		TEXT,			-- Productboard webhook subscription
	gl_hook_id		INTEGER,		-- GitLab project hook
	plugin_secret		TEXT NOT NULL,		-- hash of the Authorization we gave
	pb_hook_secret		TEXT NOT NULL,
	gl_hook_secret		TEXT NOT NULL,
	status_map		TEXT NOT NULL DEFAULT '{}',	-- JSON, see sync.c
	conflict_policy		TEXT NOT NULL DEFAULT 'latest'
				    CHECK (conflict_policy IN ('latest', 'productboard', 'gitlab')),
	delete_policy		TEXT NOT NULL DEFAULT 'keep'
				    CHECK (delete_policy IN ('keep', 'close', 'label')),
	auth_failed		TEXT,			-- which side refused our token, and when
	last_sync_at		REAL,
	created_at		REAL NOT NULL,
	updated_at		REAL NOT NULL
);

-- One row per feature pushed to the tracker.  The row exists before the
-- issue does, so concurrent pushes of one feature find each other.
CREATE TABLE link (
	id			INTEGER PRIMARY KEY,
	integration_id		TEXT NOT NULL REFERENCES integration(id) ON DELETE CASCADE,
	feature_id		TEXT NOT NULL CHECK (length(feature_id) BETWEEN 1 AND 64),
	state			TEXT NOT NULL DEFAULT 'pending'
				    CHECK (state IN ('pending', 'linked')),
	issue_project_id	INTEGER,
	issue_iid		INTEGER,
	issue_id		INTEGER,
	issue_url		TEXT,
	issue_title		TEXT,
	issue_state		TEXT,
	feature_url		TEXT,
	-- last-synced snapshot for the three-way merge (DESIGN §3)
	snap_name		TEXT,
	snap_pb_desc		TEXT,
	snap_gl_desc		TEXT,
	snap_status		TEXT,
	snap_state		TEXT,
	pushed_by		TEXT,
	lock_until		REAL,			-- a sync of this link is running
	created_at		REAL NOT NULL,
	updated_at		REAL NOT NULL,
	last_sync_at		REAL,
	UNIQUE (integration_id, feature_id)
);
CREATE INDEX link_issue ON link (integration_id, issue_id);

-- Inbound deliveries kept for deduplication (GitLab Idempotency-Key).
CREATE TABLE delivery (
	integration_id		TEXT NOT NULL REFERENCES integration(id) ON DELETE CASCADE,
	source			TEXT NOT NULL CHECK (source IN ('productboard', 'gitlab')),
	key			TEXT NOT NULL,
	received_at		REAL NOT NULL,
	PRIMARY KEY (integration_id, source, key)
) WITHOUT ROWID;
CREATE INDEX delivery_age ON delivery (received_at);

-- Durable jobs.  A job is 'ready' (run_at says when), 'leased' until
-- lease_until, or 'dead' after its last attempt; done jobs are deleted.
CREATE TABLE job (
	id			INTEGER PRIMARY KEY,
	integration_id		TEXT NOT NULL REFERENCES integration(id) ON DELETE CASCADE,
	kind			TEXT NOT NULL CHECK (kind IN
				    ('push', 'sync', 'feature_deleted', 'issue_event', 'unmark', 'reconcile')),
	key			TEXT NOT NULL,		-- feature id, issue id, ...
	payload			TEXT NOT NULL DEFAULT '{}',
	state			TEXT NOT NULL DEFAULT 'ready'
				    CHECK (state IN ('ready', 'leased', 'dead')),
	attempts		INTEGER NOT NULL DEFAULT 0,
	run_at			REAL NOT NULL,
	lease_until		REAL,
	last_error		TEXT,
	created_at		REAL NOT NULL,
	updated_at		REAL NOT NULL
);
-- Coalescing: at most one waiting job per (integration, kind, key).
CREATE UNIQUE INDEX job_coalesce ON job (integration_id, kind, key) WHERE state = 'ready';
CREATE INDEX job_due ON job (state, run_at);

CREATE TABLE sync_log (
	id			INTEGER PRIMARY KEY,
	integration_id		TEXT NOT NULL REFERENCES integration(id) ON DELETE CASCADE,
	at			REAL NOT NULL,
	actor			TEXT NOT NULL DEFAULT '',
	action			TEXT NOT NULL,
	feature_id		TEXT NOT NULL DEFAULT '',
	issue_ref		TEXT NOT NULL DEFAULT '',
	result			TEXT NOT NULL CHECK (result IN ('ok', 'error', 'conflict', 'info')),
	detail			TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sync_log_recent ON sync_log (integration_id, id);

-- Upstream pauses shared by every process (429 Retry-After), keyed by a
-- hash of the token so no token is stored in clear.
CREATE TABLE upstream_pause (
	token_hash		TEXT PRIMARY KEY,
	until			REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE admin_user (
	id			INTEGER PRIMARY KEY,
	name			TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	pw_hash			TEXT NOT NULL,
	failures		INTEGER NOT NULL DEFAULT 0,
	last_failure_at		REAL,
	created_at		REAL NOT NULL
);

CREATE TABLE session (
	id_hash			TEXT PRIMARY KEY,	-- hash of the cookie value
	user_id			INTEGER NOT NULL REFERENCES admin_user(id) ON DELETE CASCADE,
	csrf			TEXT NOT NULL,
	created_at		REAL NOT NULL,
	expires_at		REAL NOT NULL
) WITHOUT ROWID;

-- version 2

-- The integrations list counts each integration's jobs and finds its last
-- sync: without these, every row of the page scanned the whole job table,
-- all of the integration's links and its whole sync log.
CREATE INDEX job_integration ON job (integration_id, state);
CREATE INDEX link_synced ON link (integration_id, last_sync_at);
CREATE INDEX sync_log_result ON sync_log (integration_id, result, at);

-- /healthz reports how many links there are.  count(*) reads every row of
-- an index, milliseconds per poll at a million links: triggers keep the
-- number instead (foreign-key cascades fire them too).
CREATE TABLE row_count (
	name			TEXT PRIMARY KEY,
	n			INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO row_count (name, n) SELECT 'link', count(*) FROM link;
-- [sqlite]
CREATE TRIGGER link_count_insert AFTER INSERT ON link BEGIN
	UPDATE row_count SET n = n + 1 WHERE name = 'link';
END;
CREATE TRIGGER link_count_delete AFTER DELETE ON link BEGIN
	UPDATE row_count SET n = n - 1 WHERE name = 'link';
END;
-- [end]
--pg CREATE FUNCTION link_count() RETURNS trigger LANGUAGE plpgsql AS $$
--pg BEGIN
--pg 	UPDATE row_count SET n = n + CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END
--pg 	    WHERE name = 'link';
--pg 	RETURN NULL;
--pg END $$;
--pg CREATE TRIGGER link_count_insert AFTER INSERT ON link
--pg 	FOR EACH ROW EXECUTE FUNCTION link_count();
--pg CREATE TRIGGER link_count_delete AFTER DELETE ON link
--pg 	FOR EACH ROW EXECUTE FUNCTION link_count();

-- version 3

-- Login throttling (DESIGN §6).  Failures are counted per typed user name
-- and client address ("u:" hash of the name, address) and per address
-- ("a:" address), before the password is checked, so parallel guesses get
-- no extra tries; a name that does not exist is counted the same way, so
-- the answers tell nobody which names exist.  admin_user.failures and
-- last_failure_at (version 1) are no longer used.
CREATE TABLE login_throttle (
	key			TEXT PRIMARY KEY,
	failures		INTEGER NOT NULL,
	last_failure_at		REAL NOT NULL
) WITHOUT ROWID;

-- Browsers that logged in before, by the hash of a cookie they keep: they
-- may log in during a lockout that someone else's guesses caused.
CREATE TABLE login_device (
	token_hash		TEXT PRIMARY KEY,
	user_id			INTEGER NOT NULL REFERENCES admin_user(id) ON DELETE CASCADE,
	created_at		REAL NOT NULL
) WITHOUT ROWID;

-- version 4

-- The tracker side made tracker-neutral (DESIGN §8): an integration names
-- its tracker kind ("gitlab", "github"), and issues are named by the
-- strings its backend makes: id (stable, what deliveries name), ref (where
-- the backend finds it; GitLab "<project id>/<iid>") and key (for people,
-- "#12").  Tables whose CHECKs change are rebuilt (SQLite cannot alter a
-- CHECK); the migration runs with foreign keys off and checks them after.
-- Existing GitLab integrations carry over unchanged: their tokens stay
-- sealed under the column's old name, which ctx_open still accepts.
-- (PostgreSQL databases start after this version: the copies that read
-- JSON are SQLite's alone, and the old integration table goes with the
-- references to it, which the rebuilt tables make again.)

CREATE TABLE integration_v4 (
	id			TEXT PRIMARY KEY
				    CHECK (length(id) = 32 AND id NOT GLOB '*[^0-9a-f]*'),
	name			TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	column_label		TEXT NOT NULL CHECK (length(column_label) BETWEEN 1 AND 10),
	pb_token		TEXT NOT NULL,		-- sealed (crypto_seal)
	pb_token_tail		TEXT NOT NULL,		-- last 4 characters, for display
	tracker_kind		TEXT NOT NULL CHECK (length(tracker_kind) BETWEEN 1 AND 20),
	tracker_url		TEXT NOT NULL,		-- as the admin gave it
	tracker_token		TEXT NOT NULL,		-- sealed
	tracker_token_tail	TEXT NOT NULL,
	tracker_project		TEXT NOT NULL,		-- the backend's id: "1001", "owner/repo"
	tracker_project_name	TEXT NOT NULL,		-- for people: "grp/proj"
	tracker_project_url	TEXT NOT NULL DEFAULT '',
	pb_plugin_id		TEXT,			-- Productboard plugin integration
	pb_webhook_id		TEXT,			-- Productboard webhook subscription
	tracker_hook_id		TEXT,			-- the tracker's webhook
	plugin_secret		TEXT NOT NULL,		-- hash of the Authorization we gave
	pb_hook_secret		TEXT NOT NULL,
	-- A hash of the hook's secret, or the secret sealed where the
	-- backend must sign with it (TRACKER_AUTH_HMAC_SHA256).
	tracker_hook_secret	TEXT NOT NULL,
	status_map		TEXT NOT NULL DEFAULT '{}',	-- JSON, see sync.c
	conflict_policy		TEXT NOT NULL DEFAULT 'latest'
				    CHECK (conflict_policy IN ('latest', 'productboard', 'tracker')),
	delete_policy		TEXT NOT NULL DEFAULT 'keep'
				    CHECK (delete_policy IN ('keep', 'close', 'label')),
	auth_failed		TEXT,
	last_sync_at		REAL,
	created_at		REAL NOT NULL,
	updated_at		REAL NOT NULL
);
-- [sqlite]
INSERT INTO integration_v4 SELECT id, name, column_label, pb_token,
	pb_token_tail, 'gitlab', gl_base_url, gl_token, gl_token_tail,
	CAST(gl_project_id AS TEXT), gl_project_path, gl_project_url,
	pb_plugin_id, pb_webhook_id, CAST(gl_hook_id AS TEXT), plugin_secret,
	pb_hook_secret, gl_hook_secret,
	CASE WHEN json_valid(status_map) AND json_type(status_map, '$.to_gitlab') IS NOT NULL
	    THEN json_remove(json_set(status_map, '$.to_tracker',
		json_extract(status_map, '$.to_gitlab')), '$.to_gitlab')
	    ELSE status_map END,
	CASE conflict_policy WHEN 'gitlab' THEN 'tracker' ELSE conflict_policy END,
	delete_policy, auth_failed, last_sync_at, created_at, updated_at
	FROM integration;
DROP TABLE integration;
-- [end]
--pg DROP TABLE integration CASCADE;
ALTER TABLE integration_v4 RENAME TO integration;
--pg ALTER TABLE sync_log ADD FOREIGN KEY (integration_id)
--pg 	REFERENCES integration(id) ON DELETE CASCADE;

CREATE TABLE link_v4 (
	id			INTEGER PRIMARY KEY,
	integration_id		TEXT NOT NULL REFERENCES integration(id) ON DELETE CASCADE,
	feature_id		TEXT NOT NULL CHECK (length(feature_id) BETWEEN 1 AND 64),
	state			TEXT NOT NULL DEFAULT 'pending'
				    CHECK (state IN ('pending', 'linked')),
	issue_id		TEXT,
	issue_ref		TEXT,
	issue_key		TEXT,
	issue_url		TEXT,
	issue_title		TEXT,
	issue_state		TEXT,
	feature_url		TEXT,
	-- last-synced snapshot for the three-way merge (DESIGN §3)
	snap_name		TEXT,
	snap_pb_desc		TEXT,
	snap_tracker_desc	TEXT,
	snap_status		TEXT,
	snap_state		TEXT,
	pushed_by		TEXT,
	lock_until		REAL,			-- a sync of this link is running
	created_at		REAL NOT NULL,
	updated_at		REAL NOT NULL,
	last_sync_at		REAL,
	UNIQUE (integration_id, feature_id)
);
INSERT INTO link_v4 SELECT id, integration_id, feature_id, state,
	CAST(issue_id AS TEXT),
	CASE WHEN issue_iid IS NULL THEN NULL
	    ELSE issue_project_id || '/' || issue_iid END,
	CASE WHEN issue_iid IS NULL THEN NULL ELSE '#' || issue_iid END,
	issue_url, issue_title, issue_state, feature_url, snap_name,
	snap_pb_desc, snap_gl_desc, snap_status, snap_state, pushed_by,
	lock_until, created_at, updated_at, last_sync_at
	FROM link;
DROP TABLE link;
ALTER TABLE link_v4 RENAME TO link;
CREATE INDEX link_issue ON link (integration_id, issue_id);
CREATE INDEX link_synced ON link (integration_id, last_sync_at);
-- [sqlite]
CREATE TRIGGER link_count_insert AFTER INSERT ON link BEGIN
	UPDATE row_count SET n = n + 1 WHERE name = 'link';
END;
CREATE TRIGGER link_count_delete AFTER DELETE ON link BEGIN
	UPDATE row_count SET n = n - 1 WHERE name = 'link';
END;
-- [end]
--pg CREATE TRIGGER link_count_insert AFTER INSERT ON link
--pg 	FOR EACH ROW EXECUTE FUNCTION link_count();
--pg CREATE TRIGGER link_count_delete AFTER DELETE ON link
--pg 	FOR EACH ROW EXECUTE FUNCTION link_count();

CREATE TABLE delivery_v4 (
	integration_id		TEXT NOT NULL REFERENCES integration(id) ON DELETE CASCADE,
	source			TEXT NOT NULL CHECK (source IN ('productboard', 'tracker')),
	key			TEXT NOT NULL,
	received_at		REAL NOT NULL,
	PRIMARY KEY (integration_id, source, key)
) WITHOUT ROWID;
INSERT INTO delivery_v4 SELECT integration_id,
	CASE source WHEN 'gitlab' THEN 'tracker' ELSE source END, key,
	received_at FROM delivery;
DROP TABLE delivery;
ALTER TABLE delivery_v4 RENAME TO delivery;
CREATE INDEX delivery_age ON delivery (received_at);

-- An unmark job names its issue by ref now.
-- [sqlite]
UPDATE job SET payload = json_object('ref',
	json_extract(payload, '$.project_id') || '/' || json_extract(payload, '$.iid'))
	WHERE kind = 'unmark' AND json_valid(payload)
	AND json_extract(payload, '$.iid') IS NOT NULL;
-- [end]

-- version 5

-- Tokens of the JSON API (DESIGN §10), for scripts: made with pbsyncctl
-- token add NAME --role admin|viewer, shown once, kept as their hash.
CREATE TABLE api_token (
	name			TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
	token_hash		TEXT NOT NULL UNIQUE,
	role			TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
	created_at		REAL NOT NULL
);

-- version 6

-- Notification channels (DESIGN §9): at most one of each type per
-- integration.  The URL is a credential, sealed like the tokens (bound to
-- "<integration>:channel_<type>"), with its last 4 characters for pages.
-- A channel turned off by a permanent refusal (a removed Slack hook, an
-- unknown Discord webhook, a 410) gets no events until it is connected
-- again; failures counts its dead deliveries in a row.
CREATE TABLE channel (
	integration_id		TEXT NOT NULL REFERENCES integration(id) ON DELETE CASCADE,
	type			TEXT NOT NULL CHECK (type IN ('slack', 'discord', 'webhook')),
	url			TEXT NOT NULL,
	url_tail		TEXT NOT NULL,
	secret			TEXT,		-- webhook: the sealed whsec_ secret
	old_secret		TEXT,		-- the one it replaced, while rotating
	old_secret_until	REAL,
	events			TEXT NOT NULL DEFAULT '*',	-- '*' or a comma list
	active			INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	failures		INTEGER NOT NULL DEFAULT 0,
	last_error		TEXT,
	last_sent_at		REAL,
	created_at		REAL NOT NULL,
	updated_at		REAL NOT NULL,
	PRIMARY KEY (integration_id, type)
) WITHOUT ROWID;

-- Notifications are delivered as jobs of their own kind.
CREATE TABLE job_v6 (
	id			INTEGER PRIMARY KEY,
	integration_id		TEXT NOT NULL REFERENCES integration(id) ON DELETE CASCADE,
	kind			TEXT NOT NULL CHECK (kind IN
				    ('push', 'sync', 'feature_deleted', 'issue_event', 'unmark',
				     'reconcile', 'notify')),
	key			TEXT NOT NULL,
	payload			TEXT NOT NULL DEFAULT '{}',
	state			TEXT NOT NULL DEFAULT 'ready'
				    CHECK (state IN ('ready', 'leased', 'dead')),
	attempts		INTEGER NOT NULL DEFAULT 0,
	run_at			REAL NOT NULL,
	lease_until		REAL,
	last_error		TEXT,
	created_at		REAL NOT NULL,
	updated_at		REAL NOT NULL
);
INSERT INTO job_v6 SELECT id, integration_id, kind, key, payload, state,
	attempts, run_at, lease_until, last_error, created_at, updated_at FROM job;
DROP TABLE job;
ALTER TABLE job_v6 RENAME TO job;
CREATE UNIQUE INDEX job_coalesce ON job (integration_id, kind, key) WHERE state = 'ready';
CREATE INDEX job_due ON job (state, run_at);
CREATE INDEX job_integration ON job (integration_id, state);

-- version 7

-- The snapshot a sync round will save if its writes land, recorded before
-- them: a round cut short after a write took effect (a crash, an answer
-- lost) tells the next one which values pbsync wrote.
ALTER TABLE link ADD COLUMN pending TEXT;

-- version 8

-- Metrics (GET /metrics): the counters every process adds its counts to,
-- in batches (at most about once a second per process), so a scrape of any
-- program sees the sums of all processes and hosts sharing the database.
-- A row is one sample: its name (a counter's, or a histogram's _bucket,
-- _sum or _count) and its label set as exposed, label values escaped
-- (route="plugin",code="200"); the label values come from fixed sets in
-- the code, so the table stays small.  Gauges are not stored: a scrape
-- computes them from the tables they describe.
CREATE TABLE metric (
	name			TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	labels			TEXT NOT NULL CHECK (length(labels) < 192),
	value			REAL NOT NULL,
	PRIMARY KEY (name, labels)
) WITHOUT ROWID;

-- The request id of what queued a job (a webhook, a click, another job):
-- the worker logs it on the job's lines, so one id ties a delivery to the
-- writes it caused.  NULL for jobs queued before this version.
ALTER TABLE job ADD COLUMN request_id TEXT;

-- version 9

-- The settings a tracker's backend asks the admin for besides URL, token
-- and project (tracker_ops.options; Jira: the account's e-mail and the
-- issue type), as a JSON object of strings.  No secret: tokens stay in
-- tracker_token, sealed.
ALTER TABLE integration ADD COLUMN tracker_options TEXT NOT NULL DEFAULT '{}'
	CHECK (length(tracker_options) <= 4096);

-- version 10

-- The activity dashboard of the admin pages: what happened, per
-- integration and hour, so a chart of the last 30 days reads a few hundred
-- rows whatever the traffic.  kind is one of
--   delivery  a webhook delivery accepted and queued (hook.c counts it in
--             the transaction that queues its job);
--   push      an issue created for a feature (a sync log "push" row, ok);
--   sync      a sync round that wrote something (a "sync" row);
--   conflict  such a round that found both sides changed (counted in sync
--             too);
--   failure   a push refused (a sync log "error" row) or a failed attempt
--             of a job other than a notification (leased, then back to
--             ready or dead without its attempt given back).
-- The triggers below count the rows of the sync log and the job table as
-- they are written; a bucket older than 32 days is dropped when a new one
-- starts.
CREATE TABLE activity (
	integration_id		TEXT NOT NULL REFERENCES integration(id) ON DELETE CASCADE,
	hour			INTEGER NOT NULL,	-- unix time / 3600
	kind			TEXT NOT NULL CHECK (kind IN
				    ('delivery', 'push', 'sync', 'conflict', 'failure')),
	n			INTEGER NOT NULL,
	PRIMARY KEY (integration_id, hour, kind)
) WITHOUT ROWID;
CREATE INDEX activity_hour ON activity (hour);

-- The activity of the past 32 days already in the sync log (SQLite's: no
-- PostgreSQL database is older than this version).
-- [sqlite]
INSERT INTO activity (integration_id, hour, kind, n)
	SELECT integration_id, CAST(at / 3600 AS INTEGER), k, count(*) FROM (
	    SELECT integration_id, at, 'push' AS k FROM sync_log
		WHERE action = 'push' AND result = 'ok'
	    UNION ALL SELECT integration_id, at, 'sync' FROM sync_log
		WHERE action = 'sync'
	    UNION ALL SELECT integration_id, at, 'conflict' FROM sync_log
		WHERE result = 'conflict'
	    UNION ALL SELECT integration_id, at, 'failure' FROM sync_log
		WHERE result = 'error')
	WHERE at >= CAST(strftime('%s', 'now') AS INTEGER) - 32 * 86400
	GROUP BY 1, 2, 3;

CREATE TRIGGER activity_log AFTER INSERT ON sync_log BEGIN
	INSERT INTO activity (integration_id, hour, kind, n)
	    SELECT NEW.integration_id, CAST(NEW.at / 3600 AS INTEGER), k, 1
	    FROM (SELECT 'push' AS k WHERE NEW.action = 'push' AND
		NEW.result = 'ok'
		UNION ALL SELECT 'sync' WHERE NEW.action = 'sync'
		UNION ALL SELECT 'conflict' WHERE NEW.result = 'conflict'
		UNION ALL SELECT 'failure' WHERE NEW.result = 'error')
	    WHERE true ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER activity_job AFTER UPDATE OF state ON job
    WHEN OLD.state = 'leased' AND NEW.state IN ('ready', 'dead') AND
    NEW.attempts >= OLD.attempts AND NEW.kind != 'notify' BEGIN
	INSERT INTO activity (integration_id, hour, kind, n)
	    VALUES (NEW.integration_id,
	    CAST(strftime('%s', 'now') AS INTEGER) / 3600, 'failure', 1)
	    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER activity_prune AFTER INSERT ON activity BEGIN
	DELETE FROM activity WHERE
	    hour < CAST(strftime('%s', 'now') AS INTEGER) / 3600 - 32 * 24;
END;
-- [end]
--pg CREATE FUNCTION activity_log() RETURNS trigger LANGUAGE plpgsql AS $$
--pg BEGIN
--pg 	INSERT INTO activity (integration_id, hour, kind, n)
--pg 	    SELECT NEW.integration_id, floor(NEW.at / 3600), k, 1
--pg 	    FROM (SELECT 'push' AS k WHERE NEW.action = 'push' AND
--pg 		NEW.result = 'ok'
--pg 		UNION ALL SELECT 'sync' WHERE NEW.action = 'sync'
--pg 		UNION ALL SELECT 'conflict' WHERE NEW.result = 'conflict'
--pg 		UNION ALL SELECT 'failure' WHERE NEW.result = 'error') kinds
--pg 	    ON CONFLICT (integration_id, hour, kind)
--pg 	    DO UPDATE SET n = activity.n + 1;
--pg 	RETURN NULL;
--pg END $$;
--pg CREATE TRIGGER activity_log AFTER INSERT ON sync_log
--pg 	FOR EACH ROW EXECUTE FUNCTION activity_log();
--pg CREATE FUNCTION activity_job() RETURNS trigger LANGUAGE plpgsql AS $$
--pg BEGIN
--pg 	INSERT INTO activity (integration_id, hour, kind, n)
--pg 	    VALUES (NEW.integration_id,
--pg 	    floor(extract(epoch FROM now()) / 3600), 'failure', 1)
--pg 	    ON CONFLICT (integration_id, hour, kind)
--pg 	    DO UPDATE SET n = activity.n + 1;
--pg 	RETURN NULL;
--pg END $$;
--pg CREATE TRIGGER activity_job AFTER UPDATE OF state ON job FOR EACH ROW
--pg     WHEN (OLD.state = 'leased' AND NEW.state IN ('ready', 'dead') AND
--pg     NEW.attempts >= OLD.attempts AND NEW.kind != 'notify')
--pg 	EXECUTE FUNCTION activity_job();
--pg CREATE FUNCTION activity_prune() RETURNS trigger LANGUAGE plpgsql AS $$
--pg BEGIN
--pg 	DELETE FROM activity WHERE
--pg 	    hour < floor(extract(epoch FROM now()) / 3600) - 32 * 24;
--pg 	RETURN NULL;
--pg END $$;
--pg CREATE TRIGGER activity_prune AFTER INSERT ON activity
--pg 	FOR EACH ROW EXECUTE FUNCTION activity_prune();

-- The sync log page filters by integration, feature, result and time and
-- pages newest first by (at, id) from where the last page ended: each
-- filter has an index in that order, so a page reads its own rows only.
CREATE INDEX sync_log_at ON sync_log (at);
CREATE INDEX sync_log_time ON sync_log (integration_id, at);
CREATE INDEX sync_log_feature ON sync_log (feature_id, at);
CREATE INDEX sync_log_outcome ON sync_log (result, at);
