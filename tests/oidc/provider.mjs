// A real OpenID Connect provider (oidc-provider, OpenID-certified) on loopback for the identity-provider tests.
// Clients get JWT access tokens with the client-credentials grant; each client stands for one user or service.
// Env: PORT, AUDIENCE, KEYS_DIR (private JWKs, one file per key: <kid>.json, created when missing),
// KEYS ("kid:alg,kid:alg", the first signs; the others are published too, e.g. the previous key after a rotation).
// Prints "READY <issuer>" once listening and "JWKS" on every key-set request (the tests count them).
import fs from "node:fs";
import path from "node:path";
import { generateKeyPair, exportJWK } from "jose";
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const audience = process.env.AUDIENCE;
const dir = process.env.KEYS_DIR;
const issuer = `http://127.0.0.1:${port}`;

const keys = [];
for (const spec of process.env.KEYS.split(",")) {
  const [kid, alg] = spec.split(":");
  const file = path.join(dir, `${kid}.json`);
  if (!fs.existsSync(file)) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, crv: alg === "ES256" ? "P-256" : undefined });
    fs.writeFileSync(file, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg, use: "sig" }));
  }
  keys.push(JSON.parse(fs.readFileSync(file, "utf8")));
}
const signingAlg = keys[0].alg;

// client id -> the claims its tokens carry (the service names them with Auth:Issuers:N:UserClaim / RoleClaim).
const people = {
  alice: { uid: "oidc-alice", roles: ["user"] },
  bob: { uid: "oidc-bob", roles: ["user"] },
  checkout: { uid: "checkout-system", roles: ["service"] },
  operator: { uid: "oidc-operator", roles: ["admin"] },
};

const provider = new Provider(issuer, {
  clients: Object.keys(people).map((id) => ({
    client_id: id,
    client_secret: `${id}-secret`,
    grant_types: ["client_credentials"],
    redirect_uris: [],
    response_types: [],
  })),
  jwks: { keys },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: "coupons", audience, accessTokenFormat: "jwt", accessTokenTTL: 600, jwt: { sign: { alg: signingAlg, kid: keys[0].kid } } }),
    },
  },
  extraTokenClaims: (ctx, token) => people[token.clientId],
});
provider.proxy = false;
provider.use(async (ctx, next) => {
  if (ctx.path.endsWith("/jwks")) console.log("JWKS");
  await next();
});
provider.listen(port, "127.0.0.1", () => console.log(`READY ${issuer}`));
