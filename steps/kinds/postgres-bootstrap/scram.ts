import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

// A role's password is sent as a SCRAM-SHA-256 verifier, as psql's \password does, so the
// clear text never reaches the server, its statement statistics or its logs.

const ITERATIONS = 4096;

export function scramVerifier(password: string, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, ITERATIONS, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}
