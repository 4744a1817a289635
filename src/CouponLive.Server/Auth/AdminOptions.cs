using System.ComponentModel.DataAnnotations;

namespace CouponLive.Auth;

public sealed class AdminOptions
{
    [Required(AllowEmptyStrings = false, ErrorMessage = "Admin:LoginId must not be empty.")]
    public string LoginId { get; set; } = "admin";

    /// <summary>Unset in development: generated into the data folder at first start.</summary>
    public string? Password { get; set; }
}
