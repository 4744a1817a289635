using System.Security.Cryptography;
using System.Text;
using Dapper;
using MySqlConnector;

namespace CouponLive.Storage;

/// <summary>
/// Versioned schema changes for MySQL / MariaDB, applied under a named lock so several processes starting at once
/// apply each step once. DDL is not transactional here (each statement commits): every statement of a step is
/// idempotent (IF NOT EXISTS) and the version is recorded right after its step, so a step cut short is redone whole.
/// </summary>
internal static class MySqlMigrations
{
    private const int LockWaitSeconds = 60;

    // {bin}: a binary collation WITHOUT pad (MySQL's and MariaDB's utf8mb4_bin pad with spaces, so 'a' and 'a '
    // would clash in a UNIQUE index). Identifiers, codes and names compare bytewise, as PostgreSQL's COLLATE "C".
    // Times are DATETIME(3) in UTC (whole milliseconds, as the other stores keep them).
    private static readonly string[][] Steps =
    [
        // 1: the schema of PostgresMigrations v1..v5 combined. Campaign ids are INT UNSIGNED: they stop below
        // 2^32, as the code codec packs (campaign id, sequence) into 64 bits. CHECKs are table constraints because
        // a column constraint may not name another column in MariaDB; MariaDB 10.2+ and MySQL 8.0.16+ enforce them.
        [
            """
            CREATE TABLE IF NOT EXISTS meta (
                `key`  VARCHAR(191) COLLATE {bin} NOT NULL PRIMARY KEY,
                value  TEXT NOT NULL
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
            """
            CREATE TABLE IF NOT EXISTS users (
                user_id       VARCHAR(128) NOT NULL PRIMARY KEY,
                login_id      VARCHAR(128) NOT NULL,
                password_hash VARCHAR(1024) NOT NULL,
                role          VARCHAR(64) NOT NULL,
                created_at    DATETIME(3) NOT NULL,
                CONSTRAINT users_login_id_key UNIQUE (login_id)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
            // benefit_value is the decimal's invariant text (as in SQLite): DECIMAL(p,s) would pad every value to
            // its scale, so 12.5 would come back as 12.50 and read differently in responses and audit entries.
            """
            CREATE TABLE IF NOT EXISTS campaigns (
                campaign_id        INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
                name               VARCHAR(400) NOT NULL,
                total_quantity     INT NOT NULL,
                issued_count       INT NOT NULL DEFAULT 0,
                coupon_valid_until DATETIME(3) NULL,
                benefit_type       VARCHAR(64) NULL,
                benefit_value      VARCHAR(64) NULL,
                created_at         DATETIME(3) NOT NULL,
                version            INT NOT NULL DEFAULT 1,
                paused_at          DATETIME(3) NULL,
                cancelled_at       DATETIME(3) NULL,
                issued_revoked     BOOLEAN NOT NULL DEFAULT FALSE,
                CONSTRAINT campaigns_name_key UNIQUE (name),
                CONSTRAINT campaigns_total_quantity_check CHECK (total_quantity BETWEEN 1 AND 10000000),
                CONSTRAINT campaigns_issued_count_check CHECK (issued_count BETWEEN 0 AND total_quantity)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
            """
            CREATE TABLE IF NOT EXISTS campaign_windows (
                campaign_id  INT UNSIGNED NOT NULL,
                window_index INT NOT NULL,
                starts_at    DATETIME(3) NOT NULL,
                ends_at      DATETIME(3) NOT NULL,
                quota        INT NULL,
                issued_count INT NOT NULL DEFAULT 0,
                PRIMARY KEY (campaign_id, window_index),
                CONSTRAINT campaign_windows_campaign_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns(campaign_id),
                CONSTRAINT campaign_windows_ends_check CHECK (ends_at > starts_at),
                CONSTRAINT campaign_windows_quota_check CHECK (quota IS NULL OR quota > 0),
                CONSTRAINT campaign_windows_issued_count_check CHECK (issued_count >= 0 AND (quota IS NULL OR issued_count <= quota))
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
            // No foreign key to the window (as PostgreSQL since v2): the group commit checks each row's window, and
            // windows are never deleted while they can hold coupons. (user_id, campaign_id) both enforces one coupon
            // per user and campaign (I2) and finds a user's coupons.
            """
            CREATE TABLE IF NOT EXISTS coupons (
                campaign_id             INT UNSIGNED NOT NULL,
                sequence                BIGINT NOT NULL,
                user_id                 VARCHAR(128) NOT NULL,
                code                    VARCHAR(32) NOT NULL,
                window_index            INT NULL,
                grant_no                INT NULL,
                issued_at               DATETIME(3) NOT NULL,
                committed_at            DATETIME(3) NOT NULL,
                order_id                VARCHAR(128) NULL,
                redeemed_at             DATETIME(3) NULL,
                redemption_cancelled_at DATETIME(3) NULL,
                revoked_at              DATETIME(3) NULL,
                PRIMARY KEY (campaign_id, sequence),
                CONSTRAINT coupons_user_id_campaign_id_key UNIQUE (user_id, campaign_id),
                CONSTRAINT coupons_code_key UNIQUE (code),
                CONSTRAINT coupons_sequence_check CHECK (sequence > 0),
                CONSTRAINT coupons_window_or_grant CHECK ((window_index IS NULL) <> (grant_no IS NULL)),
                CONSTRAINT coupons_redemption_check CHECK ((order_id IS NULL) = (redeemed_at IS NULL))
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
            """
            CREATE TABLE IF NOT EXISTS campaign_audit (
                audit_id    BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                campaign_id INT UNSIGNED NOT NULL,
                at          DATETIME(3) NOT NULL,
                actor       VARCHAR(255) NOT NULL,
                action      VARCHAR(64) NOT NULL,
                changes     MEDIUMTEXT NOT NULL,
                CONSTRAINT campaign_audit_campaign_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns(campaign_id),
                INDEX campaign_audit_by_campaign (campaign_id, audit_id)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
            """
            CREATE TABLE IF NOT EXISTS grants (
                grant_no     INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                campaign_id  INT UNSIGNED NOT NULL,
                grant_id     VARCHAR(128) NOT NULL,
                actor        VARCHAR(255) NOT NULL,
                created_at   DATETIME(3) NOT NULL,
                done_at      DATETIME(3) NULL,
                requested    INT NOT NULL,
                issued       INT NOT NULL DEFAULT 0,
                already_held INT NOT NULL DEFAULT 0,
                sold_out     INT NOT NULL DEFAULT 0,
                invalid      INT NOT NULL DEFAULT 0,
                cancelled    INT NOT NULL DEFAULT 0,
                CONSTRAINT grants_campaign_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns(campaign_id),
                CONSTRAINT grants_campaign_id_grant_id_key UNIQUE (campaign_id, grant_id)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
            // No partial index for pending users (MySQL has none): the primary key finds a grant's page in order.
            """
            CREATE TABLE IF NOT EXISTS grant_users (
                grant_no INT NOT NULL,
                position INT NOT NULL,
                user_id  VARCHAR(128) NOT NULL,
                outcome  VARCHAR(32) NULL,
                code     VARCHAR(32) NULL,
                PRIMARY KEY (grant_no, position),
                CONSTRAINT grant_users_grant_fkey FOREIGN KEY (grant_no) REFERENCES grants(grant_no)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
        ],
        // 2: the high-water mark of a campaign's sequence numbers (PostgresMigrations v6).
        [
            "ALTER TABLE campaigns ADD COLUMN sequence_reserved BIGINT NOT NULL DEFAULT 0",
        ],
        // 3: the transactional outbox (PostgresMigrations v7): insert-only events at feed positions taken from the
        // locked event_sequence row in each writer's transaction, so they follow commit order with no gap.
        // campaign_id has the type of campaigns.campaign_id, which the insert reads the name from.
        [
            """
            CREATE TABLE IF NOT EXISTS events (
                feed_position BIGINT NOT NULL PRIMARY KEY,
                event_id      CHAR(36) NOT NULL,
                campaign_id   INT UNSIGNED NOT NULL,
                type          VARCHAR(100) NOT NULL,
                subject       VARCHAR(300) NOT NULL,
                `time`        DATETIME(3) NOT NULL,
                data          MEDIUMTEXT NOT NULL,
                parked_at     DATETIME(3) NULL,
                last_error    TEXT NULL
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
            """
            CREATE TABLE IF NOT EXISTS event_sequence (
                name          VARCHAR(32) NOT NULL PRIMARY KEY,
                last_position BIGINT NOT NULL
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
            """
            CREATE TABLE IF NOT EXISTS event_relay (
                name         VARCHAR(32) NOT NULL PRIMARY KEY,
                holder       VARCHAR(200) NULL,
                expires_at   DATETIME(3) NULL,
                sent_through BIGINT NOT NULL,
                parked       BIGINT NOT NULL
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={bin}
            """,
            // No-ops on a clash: a step cut short is redone whole.
            "INSERT INTO event_sequence(name, last_position) VALUES ('feed', 0) ON DUPLICATE KEY UPDATE name = name",
            "INSERT INTO event_relay(name, holder, expires_at, sent_through, parked) VALUES ('relay', NULL, NULL, 0, 0) ON DUPLICATE KEY UPDATE name = name",
        ],
    ];

    /// <summary>The newest schema version.</summary>
    public static int Latest => Steps.Length;

    /// <summary>Applies the steps not applied yet, up to <paramref name="upTo"/> (tests build older schemas with it).</summary>
    public static async Task ApplyAsync(MySqlConnection conn, CancellationToken ct, int? upTo = null)
    {
        // GET_LOCK is server-wide: name it after the database so migrations of other databases do not queue here.
        // Hashed, since lock names stop at 64 characters and database names may have as many.
        var lockName = "couponlive_migrations:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(conn.Database)))[..32];
        var locked = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT GET_LOCK(@lockName, @wait)", new { lockName, wait = LockWaitSeconds }, cancellationToken: ct));
        if (locked != 1) throw new TimeoutException($"The schema migration lock was not granted within {LockWaitSeconds} s.");
        try
        {
            await conn.ExecuteAsync(new CommandDefinition(
                "CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL PRIMARY KEY) ENGINE=InnoDB", cancellationToken: ct));
            var current = await conn.ExecuteScalarAsync<int?>(new CommandDefinition("SELECT MAX(version) FROM schema_version", cancellationToken: ct)) ?? 0;
            if (current >= (upTo ?? Steps.Length)) return;
            var bin = await BinaryCollationAsync(conn, ct);
            for (var v = current; v < (upTo ?? Steps.Length); v++)
            {
                foreach (var statement in Steps[v])
                    await conn.ExecuteAsync(new CommandDefinition(statement.Replace("{bin}", bin, StringComparison.Ordinal), cancellationToken: ct));
                await conn.ExecuteAsync(new CommandDefinition("INSERT INTO schema_version(version) VALUES (@v)", new { v = v + 1 }, cancellationToken: ct));
            }
        }
        finally
        {
            // Not cancelled: a lock left held would stall every other process until this connection closes.
            await conn.ExecuteAsync(new CommandDefinition("DO RELEASE_LOCK(@lockName)", new { lockName }, cancellationToken: CancellationToken.None));
        }
    }

    /// <summary>The server's binary, no-pad utf8mb4 collation: the names differ between MariaDB and MySQL.</summary>
    private static async Task<string> BinaryCollationAsync(MySqlConnection conn, CancellationToken ct)
    {
        var version = await conn.ExecuteScalarAsync<string>(new CommandDefinition("SELECT VERSION()", cancellationToken: ct)) ?? "";
        return version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) ? "utf8mb4_nopad_bin" : "utf8mb4_0900_bin";
    }
}
