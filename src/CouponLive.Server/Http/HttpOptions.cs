using System.ComponentModel.DataAnnotations;
using System.Net;

namespace CouponLive.Http;

public sealed class HttpOptions : IValidatableObject
{
    /// <summary>
    /// Load balancers whose X-Forwarded-For names the client (addresses or CIDR networks), besides loopback,
    /// which is always trusted. Per-address limits then count the client, not the load balancer.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var entry in TrustedProxies)
        {
            if (!IPNetwork.TryParse(entry, out _) && !IPAddress.TryParse(entry, out _))
                yield return new ValidationResult($"Http:TrustedProxies has '{entry}', which is neither an IP address nor a CIDR network (10.0.0.0/8).");
        }
    }
}
