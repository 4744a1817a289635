using CouponLive;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Codes;
using CouponLive.Dashboard;
using CouponLive.Issuance;
using CouponLive.Rpc;

var builder = WebApplication.CreateBuilder(args);
builder.AddCouponLive();

var app = builder.Build();
await app.InitializeCouponLiveAsync();
app.UseCouponLive();

app.MapAuthApi();        // POST /api/v1/users, POST /api/v1/auth/token
app.MapCampaignsApi();   // POST, GET /api/v1/campaigns, GET /api/v1/campaigns/{id}, GET /api/v1/campaigns/{id}/coupons
app.MapIssuanceApi();    // POST /api/v1/campaigns/{id}/issue, GET /api/v1/me/coupons
app.MapCouponsApi();     // POST /api/v1/coupons/validate
app.MapRpc();           // couponlive.v1.CouponService over gRPC and Connect, gRPC reflection and health
app.MapDashboard();      // /dashboard, GET /api/v1/campaigns/{id}/live (server-sent events)
app.MapHealthApi();      // /health/live, /health/ready, /metrics
app.MapOpenApi();        // /openapi/v1.json

await app.RunAsync();

public partial class Program;
