using CouponLive;
using CouponLive.Auth;
using CouponLive.Campaigns;
using CouponLive.Codes;
using CouponLive.Dashboard;
using CouponLive.Diagnostics;
using CouponLive.Events;
using CouponLive.Grants;
using CouponLive.Http;
using CouponLive.Issuance;
using CouponLive.Lifecycle;
using CouponLive.Limits;
using CouponLive.Rpc;
using CouponLive.Storage;

var builder = WebApplication.CreateBuilder(args);
builder.AddHttp();           // Kestrel limits, source-generated JSON, ProblemDetails, OpenAPI
builder.AddDiagnostics();    // health checks, metrics (Prometheus, OTLP)
builder.AddLifecycle();      // startup and readiness of this process, a stop that drains for the load balancer
builder.AddStorage();        // SQLite (embedded mode) or PostgreSQL (production mode)
builder.AddAuth();           // JWT bearer, validated-token cache, accounts, admin
builder.AddLimits();         // flood limits (per address, per login id, per user), bounded password hashing
builder.AddCodes();          // coupon-code codec
builder.AddCampaigns();      // catalog, campaign service
builder.AddIssuance();       // admission gate (in process or Redis), group-commit writer, reconciler
builder.AddGrants();         // bulk grants, carried out in the background
builder.AddEvents();         // transactional outbox: relay (lease in the store), transport, feed
builder.AddDashboard();      // live figures
builder.AddRpc();            // gRPC (with reflection and health) and Connect, gRPC on its own HTTP/2 port

var app = builder.Build();
await app.InitializeAsync(); // schema, code key check, admin account
app.UseHttp();
app.UseRpc();
app.UseAuthentication();
app.UseAuthorization();
app.UseLimits();

app.MapAuthApi();            // POST /api/v1/users, POST /api/v1/auth/token
app.MapCampaignsApi();       // POST, GET /api/v1/campaigns, GET /api/v1/campaigns/{id}, GET /api/v1/campaigns/{id}/coupons
app.MapIssuanceApi();        // POST /api/v1/campaigns/{id}/issue, GET /api/v1/me/coupons
app.MapCouponsApi();         // POST /api/v1/coupons/validate, GET /api/v1/coupons/{code}, .../redeem, .../cancel-redemption, .../revoke
app.MapGrantsApi();          // POST, GET /api/v1/campaigns/{id}/grants, GET /api/v1/campaigns/{id}/grants/{grantId}
app.MapEventsApi();          // GET /api/v1/events (the outbox's feed of CloudEvents)
app.MapRpc();                // couponlive.v1.CouponService over gRPC and Connect, gRPC reflection and health
app.MapDashboard();          // /dashboard, GET /api/v1/campaigns/{id}/live (server-sent events)
app.MapDiagnostics();        // /health/live, /health/startup, /health/ready, /health/dependencies, /metrics
app.MapApiReference();       // /openapi/v1.json, /scalar/v1

await app.RunAsync();

public partial class Program;
