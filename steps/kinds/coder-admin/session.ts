import { ExitCode, SeedError } from "../../core/errors.js";
import type { KindContext } from "../kind.js";
import { publish, type SecretStore } from "../../stores/index.js";
import { isStatus, type CoderApi } from "./coder-api.js";
import { apiKeyId, tokenNeedsRenewal } from "./plan.js";

export interface Owner {
  email: string;
  username: string;
  password: string;
}

/**
 * The owner's long-lived API token, kept in a secret store between runs. Signing in with a
 * password writes a session (and an audit entry) in Coder on every run; a stored token that
 * still works lets a run that changes nothing write nothing. A token that stopped working
 * (Coder's database was reset) or is near its expiry is replaced by signing in once.
 * Signing in and out are not changes of state; the token issued, any it replaces, and the
 * store it is kept in are, and each is recorded as it is made.
 */
export async function ownerToken(
  ctx: KindContext,
  api: CoderApi,
  store: SecretStore,
  owner: Owner,
  opts: { tokenName: string; lifetimeHours: number; now: Date },
): Promise<string> {
  const stored = (await store.read(["token"]))?.token;
  let why = `no owner API token in ${store.describe()}`;
  if (stored) {
    const usable = await storedTokenState(api, stored, owner, opts);
    if (usable === "ok") return stored;
    why = usable;
  }
  ctx.log.info({ event: "coder.session", reason: why }, "signing in as the owner to issue an API token");

  let session: string;
  try {
    session = await api.login(owner.email, owner.password);
  } catch (err) {
    if (isStatus(err, 401)) {
      throw new SeedError(
        ExitCode.ensureFailed,
        `the owner ${owner.username} cannot sign in to Coder with the password from the secrets pipeline`,
        "Coder's first user was created with other credentials, or its password was changed in Coder: set the password in Coder back to the one in the secrets pipeline (coder reset-password), or publish Coder's password there",
      );
    }
    if (isStatus(err, 403)) {
      throw new SeedError(
        ExitCode.ensureFailed,
        `Coder refused a password sign-in for the owner ${owner.username}: ${err.answer}`,
        "the owner signs in with its password: keep CODER_DISABLE_PASSWORD_AUTH off, and make sure the owner's login_type is password",
      );
    }
    throw err;
  }
  ctx.redactor.register(session);
  let token: string;
  try {
    for (const key of await api.tokens(session)) {
      if (key.token_name !== opts.tokenName) continue;
      await api.deleteApiKey(session, key.id);
      ctx.record({
        verb: "deleted",
        object: `Coder API token ${opts.tokenName} of the owner`,
        note: "replaced by a new one",
      });
    }
    try {
      token = await api.createToken(session, opts.tokenName, opts.lifetimeHours);
    } catch (err) {
      if (isStatus(err, 400)) {
        throw new SeedError(
          ExitCode.ensureFailed,
          `Coder refused an owner API token of ${opts.lifetimeHours}h: ${err.answer}`,
          "lower tokenLifetimeHours to at most Coder's CODER_MAX_ADMIN_TOKEN_LIFETIME (168h unless set)",
        );
      }
      throw err;
    }
    ctx.redactor.register(token);
    ctx.record({ verb: "issued", object: `Coder API token ${opts.tokenName} of the owner`, note: why });
  } finally {
    await api.logout(session).catch(() => undefined);
  }
  await publish(store, { token });
  return token;
}

async function storedTokenState(
  api: CoderApi,
  token: string,
  owner: Owner,
  opts: { lifetimeHours: number; now: Date },
): Promise<"ok" | string> {
  const id = apiKeyId(token);
  if (!id) return "the stored owner API token is malformed";
  try {
    const me = await api.me(token);
    if (me.username.toLowerCase() !== owner.username.toLowerCase())
      return `the stored API token belongs to ${me.username}, not the owner`;
    const key = await api.apiKey(token, id);
    if (tokenNeedsRenewal(key.expires_at, opts.now, opts.lifetimeHours))
      return `the owner API token expires at ${key.expires_at}`;
    return "ok";
  } catch (err) {
    if (isStatus(err, 401))
      return "the stored owner API token is no longer valid (Coder's database was reset or the token was deleted)";
    throw err;
  }
}

/** Verify's read of the stored token: never signs in, so it never writes. */
export async function storedOwnerToken(api: CoderApi, store: SecretStore): Promise<string | undefined> {
  const token = (await store.read(["token"]))?.token;
  if (!token) return undefined;
  try {
    await api.me(token);
    return token;
  } catch (err) {
    if (isStatus(err, 401)) return undefined;
    throw err;
  }
}
