using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace CouponLive.Limits;

/// <summary>
/// Bounds the CPU that password hashing (login, sign-up) may take: a few hashes at once, a short queue,
/// and past it a refusal at once. A storm of logins just before a sale opens then slows logins, not issuing.
/// </summary>
public sealed class PasswordCheckLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly ConcurrencyLimiter _slots = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = options.Value.PasswordChecksAtOnce > 0 ? options.Value.PasswordChecksAtOnce : Environment.ProcessorCount,
        QueueLimit = options.Value.PasswordChecksQueued,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>A slot for one hash (dispose it when done), or null when the queue is full.</summary>
    public async ValueTask<RateLimitLease?> EnterAsync(CancellationToken ct)
    {
        var lease = await _slots.AcquireAsync(1, ct);
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        return null;
    }

    public void Dispose() => _slots.Dispose();
}
