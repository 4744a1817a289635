using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using CouponLive.Storage;

namespace CouponLive.Campaigns;

/// <summary>
/// In-process cache of campaign definitions, for the issue path and the reads. An operator's change
/// replaces the entry in the process that made it and reaches every other process within a second
/// (<see cref="RefreshAsync"/>, by version); admissions never depend on it: the gate holds the rules.
/// A miss is remembered briefly so a flood of requests for an unknown id stays off the database.
/// </summary>
public sealed class CampaignCatalog(ICouponStore store, TimeProvider time)
{
    private static readonly TimeSpan MissTtl = TimeSpan.FromSeconds(1);
    private const int MaxRememberedMisses = 10_000;

    private readonly ConcurrentDictionary<long, StoredCampaign> _campaigns = new();
    private readonly ConcurrentDictionary<long, DateTimeOffset> _misses = new();

    public async ValueTask<StoredCampaign?> GetAsync(long campaignId, CancellationToken ct)
    {
        if (_campaigns.TryGetValue(campaignId, out var campaign)) return campaign;
        if (campaignId is <= 0 or > uint.MaxValue) return null;
        var now = time.GetUtcNow();
        if (_misses.TryGetValue(campaignId, out var until) && until > now) return null;

        campaign = await store.GetCampaignAsync(campaignId, ct);
        if (campaign is null)
        {
            if (_misses.Count >= MaxRememberedMisses) _misses.Clear();
            _misses[campaignId] = now + MissTtl;
            return null;
        }
        return _campaigns.GetOrAdd(campaignId, campaign);
    }

    /// <summary>How many campaigns are held now.</summary>
    public int Count => _campaigns.Count;

    /// <summary>The campaigns held now (for the sweep of ended ones).</summary>
    public IReadOnlyCollection<StoredCampaign> Cached => [.. _campaigns.Values];

    /// <summary>Drops a campaign (ended long ago): a later request reads it from the store again.</summary>
    public void Forget(long campaignId) => _campaigns.TryRemove(campaignId, out _);

    /// <summary>
    /// The campaign if this process holds it already, without reading the store: for requests that must not
    /// cost a store read or leave state behind (an issue request refused for its token).
    /// </summary>
    public bool TryGetCached(long campaignId, [MaybeNullWhen(false)] out StoredCampaign campaign) =>
        _campaigns.TryGetValue(campaignId, out campaign);

    public void Add(StoredCampaign campaign)
    {
        // Never back to an older version (a slow refresh finishing after a change in this process).
        _campaigns.AddOrUpdate(campaign.Id, campaign, (_, cached) => cached.Version > campaign.Version ? cached : campaign);
        _misses.TryRemove(campaign.Id, out _);
    }

    /// <summary>Re-reads the cached campaigns whose version in the store differs; how many changed.</summary>
    public async Task<int> RefreshAsync(CancellationToken ct)
    {
        if (_campaigns.IsEmpty) return 0;
        var versions = await store.GetCampaignVersionsAsync(_campaigns.Keys.ToList(), ct);
        var changed = 0;
        foreach (var (id, version) in versions)
        {
            if (!_campaigns.TryGetValue(id, out var cached) || cached.Version >= version) continue;
            if (await store.GetCampaignAsync(id, ct) is { } fresh)
            {
                Add(fresh);
                changed++;
            }
        }
        return changed;
    }

    /// <summary>Parses a campaign id from a route segment; anything but a positive 32-bit number is unknown.</summary>
    public static bool TryParseId(string? text, out long id) =>
        Digits.TryParse(text, out id) && id is > 0 and <= uint.MaxValue;
}
