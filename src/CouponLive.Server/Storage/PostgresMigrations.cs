using Dapper;
using Npgsql;

namespace CouponLive.Storage;

/// <summary>
/// Versioned schema changes, applied in order in one transaction that holds an advisory lock,
/// so several processes starting at once apply each step exactly once (DDL is transactional here).
/// </summary>
internal static class PostgresMigrations
{
    // Any constant works as long as every process uses the same one; the lock is per database.
    private const long LockKey = 0x436F_7570_6F6E_4C; // "CouponL"

    private static readonly string[] Steps =
    [
        // 1: the initial schema, equivalent to SqliteMigrations step 1. Times are timestamptz (whole ms).
        // Campaign ids stop below 2^32: the code codec packs (campaign id, sequence) into 64 bits.
        """
        CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);

        CREATE TABLE users (
            user_id       text PRIMARY KEY,
            login_id      text NOT NULL UNIQUE,
            password_hash text NOT NULL,
            role          text NOT NULL,
            created_at    timestamptz NOT NULL
        );

        CREATE TABLE campaigns (
            campaign_id        bigint GENERATED ALWAYS AS IDENTITY (MAXVALUE 4294967295) PRIMARY KEY,
            name               text NOT NULL UNIQUE,
            total_quantity     integer NOT NULL CHECK (total_quantity BETWEEN 1 AND 10000000),
            issued_count       integer NOT NULL DEFAULT 0 CHECK (issued_count BETWEEN 0 AND total_quantity),
            coupon_valid_until timestamptz,
            benefit_type       text,
            benefit_value      numeric,
            created_at         timestamptz NOT NULL
        );

        CREATE TABLE campaign_windows (
            campaign_id  bigint NOT NULL REFERENCES campaigns(campaign_id),
            window_index integer NOT NULL,
            starts_at    timestamptz NOT NULL,
            ends_at      timestamptz NOT NULL CHECK (ends_at > starts_at),
            quota        integer CHECK (quota IS NULL OR quota > 0),
            issued_count integer NOT NULL DEFAULT 0 CHECK (issued_count >= 0 AND (quota IS NULL OR issued_count <= quota)),
            PRIMARY KEY (campaign_id, window_index)
        );

        CREATE TABLE coupons (
            campaign_id  bigint NOT NULL,
            sequence     bigint NOT NULL CHECK (sequence > 0),
            user_id      text NOT NULL,
            code         text NOT NULL UNIQUE,
            window_index integer NOT NULL,
            issued_at    timestamptz NOT NULL,
            committed_at timestamptz NOT NULL,
            PRIMARY KEY (campaign_id, sequence),
            UNIQUE (campaign_id, user_id),
            FOREIGN KEY (campaign_id, window_index) REFERENCES campaign_windows(campaign_id, window_index)
        );
        CREATE INDEX coupons_by_user ON coupons(user_id);
        """,
        // v2: one index (user, campaign) both enforces one coupon per user and campaign (I2) and finds a
        // user's coupons, instead of two; every issue writes one random-keyed index page fewer. User ids
        // and codes compare bytewise (COLLATE "C"): equality is the same, and the indexes skip strcoll
        // (text comparisons were ~15% of PostgreSQL's CPU in a sell-out under C.UTF-8). The foreign key
        // to the window goes: its trigger ran a locking lookup per row (~20% of PostgreSQL's CPU); the
        // group commit joins each row to its window instead, and windows are never deleted.
        """
        ALTER TABLE coupons DROP CONSTRAINT coupons_campaign_id_window_index_fkey;
        ALTER TABLE coupons ALTER COLUMN user_id TYPE text COLLATE "C", ALTER COLUMN code TYPE text COLLATE "C";
        ALTER TABLE coupons ADD CONSTRAINT coupons_user_id_campaign_id_key UNIQUE (user_id, campaign_id);
        ALTER TABLE coupons DROP CONSTRAINT coupons_campaign_id_user_id_key;
        DROP INDEX coupons_by_user;
        """,
        // v3: campaigns are operated live. version counts changes (the ETag, and how processes notice a
        // change); paused_at / cancelled_at hold the gate's state so a rebuilt gate keeps it; the audit
        // trail records every administrative change in the transaction that makes it.
        """
        ALTER TABLE campaigns
            ADD COLUMN version integer NOT NULL DEFAULT 1,
            ADD COLUMN paused_at timestamptz,
            ADD COLUMN cancelled_at timestamptz,
            ADD COLUMN issued_revoked boolean NOT NULL DEFAULT false;
        CREATE TABLE campaign_audit (
            audit_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            campaign_id bigint NOT NULL REFERENCES campaigns(campaign_id),
            at          timestamptz NOT NULL,
            actor       text NOT NULL,
            action      text NOT NULL,
            changes     text NOT NULL
        );
        CREATE INDEX campaign_audit_by_campaign ON campaign_audit(campaign_id, audit_id);
        """,
        // v4: coupons are used. A redemption is its order and time (both or neither); a revocation is final.
        // Nullable columns without defaults: no table rewrite, and the group commit's insert is unchanged.
        """
        ALTER TABLE coupons
            ADD COLUMN order_id text COLLATE "C",
            ADD COLUMN redeemed_at timestamptz,
            ADD COLUMN redemption_cancelled_at timestamptz,
            ADD COLUMN revoked_at timestamptz,
            ADD CONSTRAINT coupons_redemption_check CHECK ((order_id IS NULL) = (redeemed_at IS NULL));
        -- The redeemed count of a campaign reads this partial index; a sale's inserts (never redeemed) do not touch it.
        CREATE INDEX coupons_redeemed ON coupons(campaign_id) WHERE redeemed_at IS NOT NULL;
        """,
        // v5: bulk grants. A granted coupon belongs to no window (windows are ignored for grants) but to its grant,
        // so the stock (I1), one per user (I2) and unique codes (I3) hold for it as for any other; a grant's users
        // are kept with their outcome, so an interrupted grant resumes where it stopped.
        """
        ALTER TABLE coupons
            ALTER COLUMN window_index DROP NOT NULL,
            ADD COLUMN grant_no integer,
            ADD CONSTRAINT coupons_window_or_grant CHECK ((window_index IS NULL) <> (grant_no IS NULL));
        CREATE TABLE grants (
            grant_no     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            campaign_id  bigint NOT NULL REFERENCES campaigns(campaign_id),
            grant_id     text COLLATE "C" NOT NULL,
            actor        text NOT NULL,
            created_at   timestamptz NOT NULL,
            done_at      timestamptz,
            requested    integer NOT NULL,
            issued       integer NOT NULL DEFAULT 0,
            already_held integer NOT NULL DEFAULT 0,
            sold_out     integer NOT NULL DEFAULT 0,
            invalid      integer NOT NULL DEFAULT 0,
            cancelled    integer NOT NULL DEFAULT 0,
            UNIQUE (campaign_id, grant_id)
        );
        CREATE TABLE grant_users (
            grant_no integer NOT NULL REFERENCES grants(grant_no),
            position integer NOT NULL,
            user_id  text COLLATE "C" NOT NULL,
            outcome  text,
            code     text COLLATE "C",
            PRIMARY KEY (grant_no, position)
        );
        CREATE INDEX grant_users_pending ON grant_users(grant_no, position) WHERE outcome IS NULL;
        """,
        // v6: each rebuild of a campaign's gate reserves the sequence numbers it may hand out above this high-water
        // mark (GateSnapshot.Reserve), so a number handed out before a rebuild is never handed out again.
        """
        -- 0 for existing campaigns: a rebuild starts above their highest stored sequence anyway.
        ALTER TABLE campaigns ADD COLUMN sequence_reserved bigint NOT NULL DEFAULT 0;
        """,
        // v7: the transactional outbox. Each change writes its events here in its own transaction, at feed positions
        // taken from event_sequence: its row stays locked until that transaction commits, so positions follow commit
        // order with no gap (a rollback gives its positions back) and a reader never sees a later one before an earlier.
        // Insert-only: the relay reads past sent_through (event_relay, with its lease) and never rewrites an event.
        """
        CREATE TABLE events (
            feed_position bigint PRIMARY KEY,
            event_id      uuid NOT NULL,
            campaign_id   bigint NOT NULL,
            type          text COLLATE "C" NOT NULL,
            subject       text COLLATE "C" NOT NULL,
            time          timestamptz NOT NULL,
            data          text NOT NULL,
            parked_at     timestamptz,
            last_error    text
        );
        CREATE TABLE event_sequence (
            name          text PRIMARY KEY,
            last_position bigint NOT NULL
        );
        INSERT INTO event_sequence(name, last_position) VALUES ('feed', 0);
        CREATE TABLE event_relay (
            name         text PRIMARY KEY,
            holder       text,
            expires_at   timestamptz,
            sent_through bigint NOT NULL,
            parked       bigint NOT NULL
        );
        INSERT INTO event_relay(name, sent_through, parked) VALUES ('relay', 0, 0);
        """,
    ];

    /// <summary>Applies the steps not applied yet, up to <paramref name="upTo"/> (tests build older schemas with it).</summary>
    public static async Task ApplyAsync(NpgsqlConnection conn, CancellationToken ct, int? upTo = null)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Released at commit or rollback; a second process waits here, then finds nothing left to do.
        await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@key)", new { key = LockKey }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", transaction: tx, cancellationToken: ct));
        var current = await conn.ExecuteScalarAsync<int?>(new CommandDefinition("SELECT MAX(version) FROM schema_version", transaction: tx, cancellationToken: ct)) ?? 0;
        for (var v = current; v < (upTo ?? Steps.Length); v++)
        {
            await conn.ExecuteAsync(new CommandDefinition(Steps[v], transaction: tx, cancellationToken: ct));
            await conn.ExecuteAsync(new CommandDefinition("INSERT INTO schema_version(version) VALUES (@v)", new { v = v + 1 }, tx, cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
    }
}
