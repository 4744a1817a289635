using System.Globalization;
using StackExchange.Redis;
using Microsoft.Extensions.Options;

namespace CouponLive.Issuance.Redis;

/// <summary>
/// Key names. Every gate key of a campaign carries the hash tag {c:id}, so one script call touches one
/// Redis Cluster slot; live figures carry {live:id}, so their many per-second keys neither share nor
/// slow down the gate's slot when it migrates. No key is shared across campaigns.
/// </summary>
public sealed class RedisKeys(IOptions<RedisGateOptions> gateOptions)
{
    private readonly RedisGateOptions _options = gateOptions.Value;

    public RedisKey Campaign(long campaignId, string part) =>
        string.Create(CultureInfo.InvariantCulture, $"{_options.KeyPrefix}:{{c:{campaignId}}}:{part}");

    /// <summary>meta, holders, windows, wcount, outbox: the keys every gate script takes, in this order.</summary>
    public RedisKey[] Gate(long campaignId) =>
        [Campaign(campaignId, "meta"), Campaign(campaignId, "holders"), Campaign(campaignId, "windows"), Campaign(campaignId, "wcount"), Campaign(campaignId, "outbox")];

    /// <summary>The campaign lock (IAdmissionGate.TryLockCampaignAsync): one rebuild or one change at a time, across processes.</summary>
    public RedisKey Lock(long campaignId) => Campaign(campaignId, "lock");

    public RedisKey LiveSecond(long campaignId, long second) =>
        string.Create(CultureInfo.InvariantCulture, $"{_options.KeyPrefix}:{{live:{campaignId}}}:{second}");
}
