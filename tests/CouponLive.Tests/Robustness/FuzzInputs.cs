using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CouponLive.Tests.Infrastructure;
using Google.Protobuf;

namespace CouponLive.Tests.Robustness;

/// <summary>
/// Generates malformed, odd and hostile requests from a seed: REST operations from the service's own
/// OpenAPI document with mutated path and query values, bodies, content types and tokens; Connect and gRPC
/// calls with mutated messages, deadlines and encodings; the live stream, the dashboard's files and /metrics.
/// The same seed gives the same requests, so a failure reproduces.
/// </summary>
public sealed class FuzzInputs(int seed, long campaignId)
{
    private readonly Random _random = new(seed);

    private static readonly string[] Ids =
    [
        "1", "0", "-1", "4294967295", "4294967296", "99999999999999999999999", "abc", "1%00", "%00", "1.5", "1e3", "%D9%A1",
        "%F0%9F%98%80", new string('9', 3000), "%2e%2e", "1;drop", "+1", " 1", "0x10", "%FF%FE", "1/../2",
    ];

    private static readonly string[] QueryValues =
        ["", "0", "-1", "10%00", "1e3", "10000", "10001", "999999999999999999999999", "%FF", "abc", "%201", "1.0", "%E2%80%AE5", "1&limit=2"];

    private static readonly string?[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "application/json; charset=\"utf-8\"", "application/json; charset=utf-7",
        "application/json; charset=", "application/json; charset=latin1", "application/json;;;", "text/plain", "application/xml",
        "multipart/form-data; boundary=x", null, "application/json; charset=utf-8; charset=utf-16", "APPLICATION/JSON", "application/*",
        "application/problem+json", "application/json; boundary=\"", "\u00e9/\u00e9",
    ];

    private static readonly JsonNode?[] OddValues =
    [
        null, true, 0, -1, 1e300, long.MaxValue, -9_999_999_999L, 0.5, "", " ", "\u0000", "\ud83d\ude00", new string('x', 70_000), "\u202e\u0301",
        new JsonArray(), new JsonArray(1, "a", null), new JsonObject(), new JsonObject { ["$ref"] = "#/x" },
        "2030-01-01T00:00:00Z", "2030-01-01T00:00:00.0000001Z", "9999-12-31T23:59:59.9999999+14:00", "0001-01-01T00:00:00Z",
        "2030-02-30T00:00:00Z", "2030-01-01T00:00:00", "2030-01-01T25:00:00Z", "2030-01-01T00:00:00+99:99", "Factory", "localtime",
        "posixrules", "Asia/Seoul", "../../../etc/passwd", "24:00", "10:60", "23:59:59.9999", "percent", "amount", "NaN",
    ];

    private static readonly string[] RawBodies =
    [
        "", "{", "}", "[]", "null", "\"text\"", "{\"name\":", "{\"name\":\"a\",\"name\":\"b\"}", "{\"a\":" + new string('[', 5000),
        "{\"totalQuantity\":1e400}", "{\"x\":\"\\ud800\"}", "\u00ef\u00bb\u00bf{}", "{\"name\":\"\\u0000\"}", "{'name':'single'}",
        "{\"totalQuantity\":\"12\"}", "{\"totalQuantity\":12.5}", "{\"totalQuantity\":-0}",
    ];

    private const string Key = TestTokens.SigningKey;

    public static IReadOnlyList<(string Label, string? Authorization)> Tokens()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string Claims(string extra) => $$"""{"sub":"fuzz-user","role":"user","iss":"couponlive","aud":"couponlive"{{extra}}}""";
        return
        [
            ("user", "Bearer " + TestTokens.Mint("fuzz-user")),
            ("admin", "Bearer " + TestTokens.Mint("fuzz-admin", "admin")),
            ("service", "Bearer " + TestTokens.Mint("fuzz-service", "service")),
            ("none", null),
            ("expired", "Bearer " + TestTokens.Mint("fuzz-user", lifetime: TimeSpan.FromMinutes(-10))),
            ("wrong key", "Bearer " + TestTokens.Mint("fuzz-user", key: "another key of thirty-two bytes or more!")),
            ("wrong audience", "Bearer " + TestTokens.Mint("fuzz-user", audience: "someone-else")),
            ("exp in 9999", "Bearer " + Raw("""{"alg":"HS256","typ":"JWT"}""", Claims(",\"exp\":253402300799"))),
            ("exp as string", "Bearer " + Raw("""{"alg":"HS256","typ":"JWT"}""", Claims($",\"exp\":\"{now + 3600}\""))),
            ("nbf in the future", "Bearer " + Raw("""{"alg":"HS256","typ":"JWT"}""", Claims($",\"exp\":{now + 7200},\"nbf\":{now + 3600}"))),
            ("crit", "Bearer " + Raw("""{"alg":"HS256","typ":"JWT","crit":["x-z"],"x-z":1}""", Claims($",\"exp\":{now + 3600}"))),
            ("alg none", "Bearer " + Raw("""{"alg":"none","typ":"JWT"}""", Claims($",\"exp\":{now + 3600}"), sign: false)),
            ("alg HS512", "Bearer " + Raw("""{"alg":"HS512","typ":"JWT"}""", Claims($",\"exp\":{now + 3600}"))),
            ("no exp", "Bearer " + Raw("""{"alg":"HS256","typ":"JWT"}""", Claims(""))),
            ("empty sub", "Bearer " + Raw("""{"alg":"HS256","typ":"JWT"}""", $$"""{"sub":"","role":"user","iss":"couponlive","aud":"couponlive","exp":{{now + 3600}}}""")),
            ("sub with control characters", "Bearer " + Raw("""{"alg":"HS256","typ":"JWT"}""", $$"""{"sub":"a\u0000b","role":"user","iss":"couponlive","aud":"couponlive","exp":{{now + 3600}}}""")),
            ("sub of 2000 characters", "Bearer " + TestTokens.Mint(new string('u', 2000))),
            ("role as array", "Bearer " + Raw("""{"alg":"HS256","typ":"JWT"}""", $$"""{"sub":"x","role":["admin","user"],"iss":"couponlive","aud":"couponlive","exp":{{now + 3600}}}""")),
            ("payload not json", "Bearer " + Raw("""{"alg":"HS256","typ":"JWT"}""", "not json")),
            ("garbage", "Bearer abc.def.ghi"),
            ("empty bearer", "Bearer "),
            ("basic", "Basic YWRtaW46YWRtaW4="),
            ("truncated", "Bearer " + TestTokens.Mint("fuzz-user")[..40]),
            ("two dots", "Bearer .."),
            ("non-ascii", "Bearer \u00e9\u00e9.\u00e9.\u00e9"),
        ];
    }

    /// <summary>A token with the given header and payload JSON, signed with the test key (or not).</summary>
    private static string Raw(string header, string payload, bool sign = true)
    {
        var signingInput = B64(Encoding.UTF8.GetBytes(header)) + "." + B64(Encoding.UTF8.GetBytes(payload));
        var signature = sign ? B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), Encoding.ASCII.GetBytes(signingInput))) : "";
        return signingInput + "." + signature;
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private string ValidId() => campaignId.ToString(CultureInfo.InvariantCulture);

    /// <summary>REST requests for every operation of the OpenAPI document.</summary>
    public List<FuzzCase> Rest(JsonObject openApi, int perOperation)
    {
        var tokens = Tokens();
        var schemas = openApi["components"]!["schemas"]!.AsObject();
        var cases = new List<FuzzCase>();
        foreach (var (template, operations) in openApi["paths"]!.AsObject())
        {
            foreach (var (method, operation) in operations!.AsObject())
            {
                var parameters = operation!["parameters"]?.AsArray().Select(p => (Name: p!["name"]!.GetValue<string>(), In: p["in"]!.GetValue<string>())).ToList() ?? [];
                var bodySchema = operation["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"]?.GetValue<string>();
                for (var i = 0; i < perOperation; i++)
                {
                    var path = template;
                    foreach (var p in parameters.Where(p => p.In == "path"))
                        path = path.Replace("{" + p.Name + "}", _random.Next(3) == 0 ? ValidId() : Pick(Ids), StringComparison.Ordinal);
                    var query = parameters.Where(p => p.In == "query" && _random.Next(2) == 0).Select(p => p.Name + "=" + Pick(QueryValues)).ToList();
                    if (query.Count > 0) path += "?" + string.Join("&", query);

                    byte[]? body = null;
                    string? contentType = null;
                    string bodyLabel = "no body";
                    if (bodySchema is not null || _random.Next(6) == 0)
                    {
                        (body, bodyLabel) = Body(bodySchema is null ? null : schemas[bodySchema.Split('/')[^1]]!.AsObject(), schemas);
                        contentType = _random.Next(3) == 0 ? Pick(ContentTypes) : "application/json";
                    }
                    var (tokenLabel, authorization) = Pick(tokens);
                    var headers = authorization is null ? new List<(string, string)>() : [("Authorization", authorization)];
                    cases.Add(new FuzzCase("rest", method.ToUpperInvariant(), path, body, contentType, headers,
                        $"{method.ToUpperInvariant()} {path[..Math.Min(path.Length, 120)]} token={tokenLabel} body={bodyLabel} type={contentType}"));
                }
            }
        }
        return cases;
    }

    private (byte[] Body, string Label) Body(JsonObject? schema, JsonObject schemas)
    {
        if (schema is null || _random.Next(8) == 0)
        {
            var raw = Pick(RawBodies);
            return (Encoding.UTF8.GetBytes(raw), "raw " + raw[..Math.Min(raw.Length, 40)]);
        }
        var value = Valid(schema, schemas, depth: 0)!.AsObject();
        var label = "valid";
        var mutations = _random.Next(4);
        for (var m = 0; m < mutations; m++)
        {
            var names = value.Select(kv => kv.Key).ToList();
            switch (_random.Next(4))
            {
                case 0 when names.Count > 0:
                    var name = Pick(names);
                    var odd = Pick(OddValues);
                    value[name] = odd?.DeepClone();
                    label += $"; {name}={Describe(odd)}";
                    break;
                case 1 when names.Count > 0:
                    var removed = Pick(names);
                    value.Remove(removed);
                    label += $"; without {removed}";
                    break;
                case 2:
                    value["unknownField" + _random.Next(100)] = Pick(OddValues)?.DeepClone();
                    label += "; unknown field";
                    break;
                default:
                    // A nested object's field (a window, the schedule, the benefit) made odd.
                    foreach (var (key, node) in value)
                    {
                        if (node is JsonObject inner && inner.Count > 0)
                        {
                            var innerName = Pick(inner.Select(kv => kv.Key).ToList());
                            inner[innerName] = Pick(OddValues)?.DeepClone();
                            label += $"; {key}.{innerName} odd";
                            break;
                        }
                        if (node is JsonArray { Count: > 0 } array && array[0] is JsonObject item && item.Count > 0)
                        {
                            var itemName = Pick(item.Select(kv => kv.Key).ToList());
                            item[itemName] = Pick(OddValues)?.DeepClone();
                            label += $"; {key}[0].{itemName} odd";
                            break;
                        }
                    }
                    break;
            }
        }
        return (Encoding.UTF8.GetBytes(value.ToJsonString()), label);
    }

    private static string Describe(JsonNode? node) => node is null ? "null" : node.ToJsonString() is var s && s.Length > 30 ? s[..30] + "..." : node.ToJsonString();

    /// <summary>A plausible value for a schema: the start a mutation departs from.</summary>
    private JsonNode? Valid(JsonObject schema, JsonObject schemas, int depth)
    {
        if (schema["$ref"]?.GetValue<string>() is { } reference) return Valid(schemas[reference.Split('/')[^1]]!.AsObject(), schemas, depth + 1);
        if (schema["oneOf"] is JsonArray oneOf)
            return depth > 3 ? null : Valid(oneOf.Select(o => o!.AsObject()).Last(o => o["type"]?.ToString() != "null"), schemas, depth + 1);
        var types = schema["type"] switch
        {
            JsonArray array => array.Select(t => t!.GetValue<string>()).Where(t => t != "null").ToList(),
            JsonValue v => [v.GetValue<string>()],
            _ => ["object"],
        };
        var now = DateTimeOffset.UtcNow;
        switch (types.FirstOrDefault() ?? "string")
        {
            case "object":
                var obj = new JsonObject();
                foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
                    if (depth < 4 && _random.Next(3) > 0) obj[name] = Valid(property!.AsObject(), schemas, depth + 1);
                return obj;
            case "array":
                return depth > 3 ? new JsonArray() : new JsonArray(Valid(schema["items"]!.AsObject(), schemas, depth + 1));
            case "integer":
                return _random.Next(1, 1000);
            case "number":
                return _random.Next(1, 100);
            case "boolean":
                return true;
            default:
                return _random.Next(4) switch
                {
                    0 => now.AddMinutes(_random.Next(-60, 600)).ToString("O", CultureInfo.InvariantCulture),
                    1 => "fuzz-" + _random.Next(),
                    2 => "percent",
                    _ => "Asia/Seoul",
                };
        }
    }

    /// <summary>Connect unary calls: mutated JSON or bytes, deadlines and encodings.</summary>
    public List<FuzzCase> Connect(int count)
    {
        var tokens = Tokens();
        string[] methods = ["CreateCampaign", "GetCampaign", "IssueCoupon", "Nope", "issueCoupon", "IssueCoupon/extra"];
        string[] jsonBodies =
        [
            $$"""{"campaignId":"{{ValidId()}}"}""", """{"campaignId":1}""", """{"campaign_id":"1","user_id":"someone"}""", """{"id":"1","name":"x"}""",
            """{"name":"x","amount":"99999999999999999999999"}""", """{"name":"x","amount":"1","issuedAt":"2030-13-45T99:99:99Z"}""",
            """{"name":"x","amount":"5","issuedAt":{"seconds":"-62135596801"}}""", """{"issuedAt":"2030-01-01T00:00:00.0000000001Z"}""",
            """{"campaignId":"1","unknown":{"deep":[1,2,3]}}""", "{", "[]", "null", "", """{"campaignId":"\ud800"}""", """{"benefit":{"type":"percent","value":"1e9999"}}""",
            """{"windows":[{"startsAt":"2030-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z","quota":-5}]}""",
            """{"schedule":{"timeZone":"Factory","fromDate":"2030-01-01","toDate":"2030-01-02","dailyStartTimes":["10:00"],"durationSeconds":"60"}}""",
        ];
        string?[] timeouts = [null, null, "-1", "0", "9999999999", "99999999999", "abc", "1.5", "", "00010"];
        var cases = new List<FuzzCase>();
        for (var i = 0; i < count; i++)
        {
            var method = Pick(methods);
            var binary = _random.Next(4) == 0;
            var body = binary ? RandomBytes(_random.Next(0, 64)) : Encoding.UTF8.GetBytes(Pick(jsonBodies));
            var (tokenLabel, authorization) = Pick(tokens);
            var headers = new List<(string, string)>();
            if (authorization is not null) headers.Add(("Authorization", authorization));
            if (Pick(timeouts) is { } timeout) headers.Add(("connect-timeout-ms", timeout));
            if (_random.Next(10) == 0) headers.Add(("Content-Encoding", Pick(new[] { "gzip", "br", "identity", "x-unknown" })));
            if (_random.Next(5) == 0) headers.Add(("connect-protocol-version", Pick(new[] { "1", "2", "" })));
            var contentType = binary ? "application/proto" : _random.Next(6) == 0 ? Pick(ContentTypes) : "application/json";
            cases.Add(new FuzzCase("connect", "POST", "/couponlive.v1.CouponService/" + method, body, contentType, headers,
                $"Connect {method} token={tokenLabel} type={contentType} headers={string.Join(",", headers.Skip(authorization is null ? 0 : 1).Select(h => h.Item1 + "=" + h.Item2))} body={(binary ? "bytes" : Encoding.UTF8.GetString(body))}"));
        }
        return cases;
    }

    /// <summary>gRPC calls over h2c: framed or malformed payloads, deadlines, encodings.</summary>
    public List<FuzzCase> Grpc(int count)
    {
        var tokens = Tokens();
        string[] methods = ["CreateCampaign", "GetCampaign", "IssueCoupon", "Nope"];
        string?[] timeouts = [null, null, "99999999H", "1n", "0S", "soon", "-1S", "123456789S", "5m"];
        var cases = new List<FuzzCase>();
        for (var i = 0; i < count; i++)
        {
            var method = Pick(methods);
            var (payload, valid, label) = _random.Next(5) switch
            {
                0 => (RandomBytes(_random.Next(0, 40)), false, "random bytes"),
                1 => (Frame(RandomBytes(_random.Next(0, 40)), compressed: false), false, "frame of random bytes"),
                2 => (Frame(new CouponLive.Rpc.V1.IssueCouponRequest { CampaignId = ValidId() }.ToByteArray(), compressed: true), false, "compressed flag, plain bytes"),
                3 => (Frame([0x0a, 0x05, 0x31], compressed: false), false, "truncated field"),
                _ => (Frame(new CouponLive.Rpc.V1.IssueCouponRequest { CampaignId = Pick(Ids), UserId = Pick(new[] { "", "other", new string('x', 300) }) }.ToByteArray(), compressed: false), true, "message"),
            };
            var (tokenLabel, authorization) = Pick(tokens);
            var headers = new List<(string, string)> { ("te", "trailers") };
            if (authorization is not null) headers.Add(("Authorization", authorization));
            if (Pick(timeouts) is { } timeout) headers.Add(("grpc-timeout", timeout));
            if (_random.Next(8) == 0) headers.Add(("grpc-encoding", Pick(new[] { "gzip", "snappy", "identity" })));
            var contentType = _random.Next(8) == 0 ? Pick(new[] { "application/grpc+json", "application/grpc+proto", "application/grpc-web" }) : "application/grpc";
            cases.Add(new FuzzCase("grpc", "POST", "/couponlive.v1.CouponService/" + method, payload, contentType, headers,
                $"gRPC {method} token={tokenLabel} type={contentType} {string.Join(",", headers.Skip(1).Where(h => h.Item1 != "Authorization").Select(h => h.Item1 + "=" + h.Item2))} payload={label}",
                MalformedMessage: !valid || contentType != "application/grpc"));
        }
        return cases;
    }

    /// <summary>The live stream, the dashboard's files, /metrics and the health endpoints.</summary>
    public static List<FuzzCase> Other()
    {
        var admin = Tokens()[1].Authorization!;
        var cases = new List<FuzzCase>();
        foreach (var id in Ids)
            cases.Add(new FuzzCase("rest", "GET", $"/api/v1/campaigns/{id}/live", null, null, [("Authorization", admin)], $"live {id[..Math.Min(20, id.Length)]}"));
        foreach (var file in new[] { "..%2f..%2fappsettings.json", "app.js", "index.html", "nope.exe", "%00", "app.css%00.js", "....//x", "a.svg", "APP.JS" })
            cases.Add(new FuzzCase("rest", "GET", "/dashboard/" + file, null, null, [], "dashboard " + file));
        foreach (var accept in new[] { "application/openmetrics-text; version=1.0.0", "*/*", "text/plain;version=0.0.4", "application/json", "\u00e9" })
            cases.Add(new FuzzCase("rest", "GET", "/metrics", null, null, [("Accept", accept)], "metrics accept " + accept));
        foreach (var path in new[] { "/health/ready", "/health/live", "/openapi/v2.json", "/openapi/v1.json", "/scalar/v1", "/nope", "/api/v1/campaigns/%ZZ" })
            cases.Add(new FuzzCase("rest", "GET", path, null, null, [], path));
        return cases;
    }

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Frame(byte[] message, bool compressed)
    {
        var frame = new byte[5 + message.Length];
        frame[0] = compressed ? (byte)1 : (byte)0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }
}
