// SSH user keys for tests. ssh2.utils.generateKeyPairSync('ed25519') writes a malformed key about once in
// 200 (a public key with a leading zero byte comes out 31 bytes long), which made tests fail at random;
// these are built from a fresh seed with the node's own, vector-tested OpenSSH encoders.
import { randomBytes } from 'node:crypto';
import { ed25519PublicFromSeed } from '../../src/crypto/ed25519.ts';
import { ed25519OpenSshPrivateKey, formatOpenSshPublicKey } from '../../src/identity/openssh.ts';

export interface SshUserKey {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` text, as ssh2 and OpenSSH read it. */
  private: string;
  /** `ssh-ed25519 AAAA…` line (no newline), for authorized_keys. */
  public: string;
}

export function sshUserKey(): SshUserKey {
  const seed = randomBytes(32);
  return {
    private: ed25519OpenSshPrivateKey(seed).toString(),
    public: formatOpenSshPublicKey(ed25519PublicFromSeed(seed)).trimEnd(),
  };
}
