using Dapper;
using Microsoft.Data.Sqlite;

namespace CouponLive.Storage;

/// <summary>Versioned schema changes, applied in order under one write lock so concurrent starts are safe.</summary>
internal static class SqliteMigrations
{
    private static readonly string[] Steps =
    [
        // 1: the initial schema. Times are Unix milliseconds (UTC).
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE users (
            user_id       TEXT PRIMARY KEY,
            login_id      TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            role          TEXT NOT NULL,
            created_at    INTEGER NOT NULL
        );

        CREATE TABLE campaigns (
            campaign_id        INTEGER PRIMARY KEY,
            name               TEXT NOT NULL UNIQUE,
            total_quantity     INTEGER NOT NULL CHECK (total_quantity BETWEEN 1 AND 10000000),
            issued_count       INTEGER NOT NULL DEFAULT 0 CHECK (issued_count BETWEEN 0 AND total_quantity),
            coupon_valid_until INTEGER,
            benefit_type       TEXT,
            benefit_value      TEXT,
            created_at         INTEGER NOT NULL
        );

        CREATE TABLE campaign_windows (
            campaign_id  INTEGER NOT NULL REFERENCES campaigns(campaign_id),
            window_index INTEGER NOT NULL,
            starts_at    INTEGER NOT NULL,
            ends_at      INTEGER NOT NULL CHECK (ends_at > starts_at),
            quota        INTEGER CHECK (quota IS NULL OR quota > 0),
            issued_count INTEGER NOT NULL DEFAULT 0 CHECK (issued_count >= 0 AND (quota IS NULL OR issued_count <= quota)),
            PRIMARY KEY (campaign_id, window_index)
        );

        CREATE TABLE coupons (
            campaign_id  INTEGER NOT NULL,
            sequence     INTEGER NOT NULL CHECK (sequence > 0),
            user_id      TEXT NOT NULL,
            code         TEXT NOT NULL UNIQUE,
            window_index INTEGER NOT NULL,
            issued_at    INTEGER NOT NULL,
            committed_at INTEGER NOT NULL,
            PRIMARY KEY (campaign_id, sequence),
            UNIQUE (campaign_id, user_id),
            FOREIGN KEY (campaign_id, window_index) REFERENCES campaign_windows(campaign_id, window_index)
        );
        CREATE INDEX coupons_by_user ON coupons(user_id);
        """,
        // v2: one index (user, campaign) both enforces one coupon per user and campaign (I2) and finds a
        // user's coupons, instead of two; every issue writes one random-keyed index page fewer (~13% of
        // the sell-out's server CPU, docs/benchmarks.md). SQLite cannot drop a table constraint: rebuild.
        """
        CREATE TABLE coupons_v2 (
            campaign_id  INTEGER NOT NULL,
            sequence     INTEGER NOT NULL CHECK (sequence > 0),
            user_id      TEXT NOT NULL,
            code         TEXT NOT NULL UNIQUE,
            window_index INTEGER NOT NULL,
            issued_at    INTEGER NOT NULL,
            committed_at INTEGER NOT NULL,
            PRIMARY KEY (campaign_id, sequence),
            UNIQUE (user_id, campaign_id),
            FOREIGN KEY (campaign_id, window_index) REFERENCES campaign_windows(campaign_id, window_index)
        );
        INSERT INTO coupons_v2(campaign_id, sequence, user_id, code, window_index, issued_at, committed_at)
            SELECT campaign_id, sequence, user_id, code, window_index, issued_at, committed_at FROM coupons;
        DROP TABLE coupons;
        ALTER TABLE coupons_v2 RENAME TO coupons;
        """,
        // v3: campaigns are operated live (see PostgresMigrations v3).
        """
        ALTER TABLE campaigns ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE campaigns ADD COLUMN paused_at INTEGER;
        ALTER TABLE campaigns ADD COLUMN cancelled_at INTEGER;
        ALTER TABLE campaigns ADD COLUMN issued_revoked INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE campaign_audit (
            audit_id    INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaigns(campaign_id),
            at          INTEGER NOT NULL,
            actor       TEXT NOT NULL,
            action      TEXT NOT NULL,
            changes     TEXT NOT NULL
        );
        CREATE INDEX campaign_audit_by_campaign ON campaign_audit(campaign_id, audit_id);
        """,
        // v4: coupons are used (see PostgresMigrations v4). SQLite cannot add a table CHECK: the store's
        // statements set order_id and redeemed_at together.
        """
        ALTER TABLE coupons ADD COLUMN order_id TEXT;
        ALTER TABLE coupons ADD COLUMN redeemed_at INTEGER;
        ALTER TABLE coupons ADD COLUMN redemption_cancelled_at INTEGER;
        ALTER TABLE coupons ADD COLUMN revoked_at INTEGER;
        CREATE INDEX coupons_redeemed ON coupons(campaign_id) WHERE redeemed_at IS NOT NULL;
        """,
        // v5: bulk grants (see PostgresMigrations v5). SQLite cannot relax NOT NULL: rebuild the coupons table.
        """
        CREATE TABLE coupons_v5 (
            campaign_id             INTEGER NOT NULL,
            sequence                INTEGER NOT NULL CHECK (sequence > 0),
            user_id                 TEXT NOT NULL,
            code                    TEXT NOT NULL UNIQUE,
            window_index            INTEGER,
            grant_no                INTEGER,
            issued_at               INTEGER NOT NULL,
            committed_at            INTEGER NOT NULL,
            order_id                TEXT,
            redeemed_at             INTEGER,
            redemption_cancelled_at INTEGER,
            revoked_at              INTEGER,
            PRIMARY KEY (campaign_id, sequence),
            UNIQUE (user_id, campaign_id),
            FOREIGN KEY (campaign_id, window_index) REFERENCES campaign_windows(campaign_id, window_index),
            CHECK ((window_index IS NULL) <> (grant_no IS NULL)),
            CHECK ((order_id IS NULL) = (redeemed_at IS NULL))
        );
        INSERT INTO coupons_v5(campaign_id, sequence, user_id, code, window_index, issued_at, committed_at, order_id, redeemed_at, redemption_cancelled_at, revoked_at)
            SELECT campaign_id, sequence, user_id, code, window_index, issued_at, committed_at, order_id, redeemed_at, redemption_cancelled_at, revoked_at FROM coupons;
        DROP TABLE coupons;
        ALTER TABLE coupons_v5 RENAME TO coupons;
        CREATE INDEX coupons_redeemed ON coupons(campaign_id) WHERE redeemed_at IS NOT NULL;
        CREATE TABLE grants (
            grant_no     INTEGER PRIMARY KEY,
            campaign_id  INTEGER NOT NULL REFERENCES campaigns(campaign_id),
            grant_id     TEXT NOT NULL,
            actor        TEXT NOT NULL,
            created_at   INTEGER NOT NULL,
            done_at      INTEGER,
            requested    INTEGER NOT NULL,
            issued       INTEGER NOT NULL DEFAULT 0,
            already_held INTEGER NOT NULL DEFAULT 0,
            sold_out     INTEGER NOT NULL DEFAULT 0,
            invalid      INTEGER NOT NULL DEFAULT 0,
            cancelled    INTEGER NOT NULL DEFAULT 0,
            UNIQUE (campaign_id, grant_id)
        );
        CREATE TABLE grant_users (
            grant_no INTEGER NOT NULL REFERENCES grants(grant_no),
            position INTEGER NOT NULL,
            user_id  TEXT NOT NULL,
            outcome  TEXT,
            code     TEXT,
            PRIMARY KEY (grant_no, position)
        );
        CREATE INDEX grant_users_pending ON grant_users(grant_no, position) WHERE outcome IS NULL;
        """,
        // v6: the high-water mark of a campaign's sequence numbers (see PostgresMigrations v6).
        """
        ALTER TABLE campaigns ADD COLUMN sequence_reserved INTEGER NOT NULL DEFAULT 0;
        """,
        // v7: the transactional outbox (see PostgresMigrations v7). SQLite has one writer at a time, so the feed
        // position is the row id: AUTOINCREMENT hands them out in commit order, takes back a rolled-back one with its
        // transaction, and never hands out again one whose event was deleted.
        """
        CREATE TABLE events (
            feed_position INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id      TEXT NOT NULL,
            campaign_id   INTEGER NOT NULL,
            type          TEXT NOT NULL,
            subject       TEXT NOT NULL,
            time          INTEGER NOT NULL,
            data          TEXT NOT NULL,
            parked_at     INTEGER,
            last_error    TEXT
        );
        CREATE TABLE event_relay (
            name         TEXT PRIMARY KEY,
            holder       TEXT,
            expires_at   INTEGER,
            sent_through INTEGER NOT NULL,
            parked       INTEGER NOT NULL
        );
        INSERT INTO event_relay(name, holder, expires_at, sent_through, parked) VALUES ('relay', NULL, NULL, 0, 0);
        """,
    ];

    /// <summary>Applies the steps not applied yet, up to <paramref name="upTo"/> (tests build older schemas with it).</summary>
    public static async Task ApplyAsync(SqliteConnection conn, CancellationToken ct, int? upTo = null)
    {
        await using var tx = conn.BeginTransaction(deferred: false); // takes the write lock first
        await conn.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", transaction: tx);
        var current = await conn.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM schema_version", transaction: tx) ?? 0;
        for (var v = (int)current; v < (upTo ?? Steps.Length); v++)
        {
            ct.ThrowIfCancellationRequested();
            await conn.ExecuteAsync(Steps[v], transaction: tx);
            await conn.ExecuteAsync("INSERT INTO schema_version(version) VALUES (@v)", new { v = v + 1 }, tx);
        }
        await tx.CommitAsync(ct);
    }
}
