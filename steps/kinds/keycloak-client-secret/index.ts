import * as z from "../../core/zod.js";
import { defineKind, type Check, type KindContext } from "../kind.js";
import { inputValue } from "../../core/spec.js";
import { openStore, publish, secretLocation, storeAccess } from "../../stores/index.js";
import { connectKeycloak, KeycloakError, type KeycloakAdmin, type KeycloakClient } from "./keycloak.js";
import { httpUrl } from "../../core/url.js";

const storeKey = z.string().check(z.regex(/^[-._a-zA-Z0-9]+$/, "must be a valid Secret key"));

const settings = z.strictObject({
  url: httpUrl.check(z.describe("Keycloak's base URL as the step reaches it, e.g. http://keycloak.keycloak.svc:8080.")),
  realm: z.string().check(z.minLength(1), z.describe("The realm the client lives in.")),
  clientId: z
    .string()
    .check(z.minLength(1), z.describe("The clientId whose secret Keycloak generated and this unit publishes.")),
  auth: z
    .strictObject({
      realm: z
        .optional(z.string().check(z.minLength(1)))
        .check(z.describe("Realm of the extractor's own client; defaults to realm.")),
      clientId: inputValue.check(
        z.describe("The extractor's confidential client (service account with realm-management view-clients)."),
      ),
      clientSecret: z
        .strictObject({ input: z.string().check(z.minLength(1)) })
        .check(z.describe("The extractor client's secret: a secret input.")),
    })
    .check(z.describe("How the unit signs in: the client-credentials grant of a client of its own.")),
  sink: secretLocation.check(z.describe("Where the secret is published.")),
  key: z._default(storeKey, "client-secret").check(z.describe("The key the secret is published under.")),
  clientIdKey: z
    .optional(storeKey)
    .check(z.describe("Also publish the clientId under this key, for consumers that want both in one place.")),
});
type Settings = z.infer<typeof settings>;

const authRealm = (s: Settings) => s.auth.realm ?? s.realm;

async function signIn(ctx: KindContext, s: Settings): Promise<KeycloakAdmin> {
  return connectKeycloak(
    s.url,
    { realm: authRealm(s), clientId: ctx.value(s.auth.clientId), clientSecret: ctx.value(s.auth.clientSecret) },
    ctx.redactor,
  );
}

/** Keycloak is the authority: the current secret, read (never regenerated), or a failure that names what is missing. */
async function readFromKeycloak(kc: KeycloakAdmin, s: Settings): Promise<{ client: KeycloakClient; secret: string }> {
  const client = await kc.findClient(s.realm, s.clientId);
  if (!client) throw new KeycloakError(`client ${s.clientId} does not exist in realm ${s.realm}`);
  if (client.publicClient || client.bearerOnly) {
    throw new KeycloakError(
      `client ${s.clientId} in realm ${s.realm} is ${client.publicClient ? "public" : "bearer-only"} and has no secret to publish`,
    );
  }
  const secret = await kc.readClientSecret(s.realm, client);
  if (!secret)
    throw new KeycloakError(
      `client ${s.clientId} in realm ${s.realm} has no secret (is its client authenticator "Client Id and Secret"?)`,
    );
  return { client, secret };
}

function desired(s: Settings, secret: string): Record<string, string> {
  return { [s.key]: secret, ...(s.clientIdKey ? { [s.clientIdKey]: s.clientId } : {}) };
}

export const keycloakClientSecret = defineKind<Settings>({
  kind: "keycloak-client-secret",
  authority: "service-generated",
  description:
    "Extracts a Keycloak client's secret (Keycloak generated it and stays the authority) and publishes it to a secret store when it differs.",
  patterns: ["extraction"],
  spec: settings,
  inputs: [{ path: ["auth", "clientId"] }, { path: ["auth", "clientSecret"], mustBe: "secret" }],
  dependencies: (s) => [
    {
      http: {
        url: new URL(
          `realms/${encodeURIComponent(authRealm(s))}/.well-known/openid-configuration`,
          s.url.endsWith("/") ? s.url : `${s.url}/`,
        ).toString(),
      },
    },
  ],
  access: storeAccess(["sink"], "write"),

  async ensure(ctx, s) {
    const { secret } = await readFromKeycloak(await signIn(ctx, s), s);
    await publish(openStore(s.sink, ctx), desired(s, secret));
  },

  async verify(ctx, s) {
    const { secret } = await readFromKeycloak(await signIn(ctx, s), s);
    const store = openStore(s.sink, ctx);
    const want = desired(s, secret);
    const stored = await store.read(Object.keys(want));
    const checks: Check[] = [
      { name: `Keycloak client ${s.clientId} in realm ${s.realm}`, ok: true, detail: "has a secret" },
    ];
    for (const [key, value] of Object.entries(want)) {
      const got = stored?.[key];
      checks.push({
        name: `${store.describe()} key ${key}`,
        ok: got === value,
        detail:
          stored === undefined
            ? "the store holds nothing"
            : got === undefined
              ? "is missing"
              : got === value
                ? "matches Keycloak"
                : "differs from Keycloak",
      });
    }
    return checks;
  },
});
