import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { access, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Paths of the PEM files a test API server needs; all made fresh per server. */
export interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
}

// A config of our own so the result does not depend on the machine's openssl.cnf.
const opensslConfig = (dnsNames: string[]) => `[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost${dnsNames.map((n) => `,DNS:${n}`).join("")}
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`;

/** The user name the admin client cert authenticates as (its CN). */
export const ADMIN_USER = "reseed-admin";

const KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
const DAYS = "7";

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync("openssl", args);
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`openssl ${args[0]} failed (the test harness needs the openssl CLI on PATH): ${detail}`);
  }
}

/** Writes a CA, a serving cert for 127.0.0.1, an admin client cert and service account keys into dir. */
/**
 * The PKI in dir if a previous run left one that is still valid for a day, else a new one:
 * `make dev` keeps its API server's state across runs, and its kubeconfigs with it.
 */
export async function reuseOrMakePki(dir: string): Promise<Pki> {
  const existing = pkiPaths(dir);
  try {
    await Promise.all(Object.values(existing).map((f) => access(f)));
    await openssl(["x509", "-checkend", String(24 * 60 * 60), "-noout", "-in", existing.adminCert]);
    return existing;
  } catch {
    return makePki(dir);
  }
}

function pkiPaths(dir: string): Pki {
  const file = (name: string) => join(dir, name);
  return {
    caCert: file("ca.crt"),
    caKey: file("ca.key"),
    servingCert: file("serving.crt"),
    servingKey: file("serving.key"),
    adminCert: file("admin.crt"),
    adminKey: file("admin.key"),
    serviceAccountPublicKey: file("sa.pub"),
    serviceAccountPrivateKey: file("sa.key"),
  };
}

export async function makePki(dir: string, opts: { dnsNames?: string[] } = {}): Promise<Pki> {
  const config = join(dir, "openssl.cnf");
  await writeFile(config, opensslConfig(opts.dnsNames ?? []));
  const pki = pkiPaths(dir);

  await openssl([
    "req",
    "-x509",
    "-config",
    config,
    "-extensions",
    "ca",
    ...KEY_ARGS,
    "-days",
    DAYS,
    "-subj",
    "/CN=reseed-test-ca",
    "-keyout",
    pki.caKey,
    "-out",
    pki.caCert,
  ]);

  const signed = async (cert: string, key: string, subject: string, extensions: string) => {
    const csr = `${cert}.csr`;
    await openssl(["req", "-new", "-config", config, ...KEY_ARGS, "-subj", subject, "-keyout", key, "-out", csr]);
    await openssl([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      pki.caCert,
      "-CAkey",
      pki.caKey,
      "-set_serial",
      `0x${randomBytes(16).toString("hex")}`,
      "-days",
      DAYS,
      "-extfile",
      config,
      "-extensions",
      extensions,
      "-out",
      cert,
    ]);
  };
  // The O of a client cert is its group: system:masters passes every authorization check.
  await Promise.all([
    signed(pki.servingCert, pki.servingKey, "/CN=kube-apiserver", "server"),
    signed(pki.adminCert, pki.adminKey, `/O=system:masters/CN=${ADMIN_USER}`, "client"),
  ]);

  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  await writeFile(pki.serviceAccountPublicKey, publicKey);
  await writeFile(pki.serviceAccountPrivateKey, privateKey, { mode: 0o600 });
  return pki;
}
