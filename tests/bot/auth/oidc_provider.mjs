// A real OpenID Connect provider for the sign-in tests: the `oidc-provider` package (v9) on loopback, port 0.
//
// It listens first and prints `issuer <URL>`; the relying party's redirect URI is known only once ActionDesk
// listens too, so it then reads one line from stdin (the redirect URI), registers the test client with it, and
// prints `ready`. Its development interactions give a login form that accepts any login name: the account id is
// the login, and its email is <login>@example.com (verified).
//
// Environment: OIDC_PROVIDER_ENTRY (file URL of oidc-provider's lib/index.js), OIDC_CLIENT_ID, OIDC_CLIENT_SECRET.
import http from "node:http";
import readline from "node:readline";

const { default: Provider } = await import(process.env.OIDC_PROVIDER_ENTRY);

const server = http.createServer((req, res) => {
  res.writeHead(503).end("not ready");
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
console.log(`issuer ${issuer}`);

const lines = readline.createInterface({ input: process.stdin });
const redirectUri = await new Promise((resolve) => lines.once("line", (line) => resolve(line.trim())));

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID,
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["actiondesk-tests-only"] },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@example.com`, email_verified: true, name: id };
      },
    };
  },
});
server.removeAllListeners("request");
server.on("request", provider.callback());
console.log("ready");
