import { createVerify, X509Certificate } from 'node:crypto';
import { DEFAULT_SNS_CERT_HOSTS } from '../config.js';

/** An SNS message as posted to an HTTP(S) subscription (the JSON body). */
export interface SnsMessage {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion?: string;
  Signature?: string;
  SigningCertURL?: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
  UnsubscribeURL?: string;
  MessageAttributes?: Record<string, { Type?: string; Value?: string }>;
}

/** A message whose signature could not be verified: the endpoint answers 403. */
export class SnsSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnsSignatureError';
  }
}

/** The certificate could not be downloaded: not the sender's fault, so the endpoint answers 503 and SNS retries. */
export class SnsCertificateUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnsCertificateUnavailableError';
  }
}

/** Fetches a PEM certificate from its (already vetted) URL. */
export type CertificateFetcher = (url: URL) => Promise<string>;

export interface SnsVerifierOptions {
  /** Regular expression the certificate URL's host must match (default: AWS's SNS hosts). */
  certificateHosts?: string;
  /** How certificates are downloaded (default: fetch over https with a 10 s timeout). */
  fetchCertificate?: CertificateFetcher;
  /** Certificates kept in memory (default 16; AWS rotates them rarely). */
  cacheSize?: number;
  /** The clock, for certificate validity checks. */
  now?: () => Date;
}

/** The fields covered by the signature, in the order SNS defines, per message type. */
const SIGNED_FIELDS: Record<string, readonly (keyof SnsMessage)[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/**
 * The string SNS signs: `Name\nvalue\n` for each signed field present (Subject only when the
 * message has one).
 */
export function canonicalString(msg: SnsMessage): string {
  const fields = SIGNED_FIELDS[msg.Type];
  if (!fields) throw new SnsSignatureError(`unknown message Type "${msg.Type}"`);
  let out = '';
  for (const f of fields) {
    const v = msg[f];
    if (v === undefined || v === null) {
      if (f === 'Subject') continue;
      throw new SnsSignatureError(`signed field ${f} is missing`);
    }
    out += `${f}\n${String(v)}\n`;
  }
  return out;
}

async function defaultFetch(url: URL): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
}

/**
 * Verifies SNS message signatures (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) with the
 * certificate named by SigningCertURL, which must be https on an allowed host. Certificates are
 * cached by URL; a failed download is not cached.
 */
export class SnsVerifier {
  private readonly hosts: RegExp;
  private readonly fetchCert: CertificateFetcher;
  private readonly cache = new Map<string, Promise<X509Certificate>>();
  private readonly cacheSize: number;
  private readonly now: () => Date;

  constructor(opts: SnsVerifierOptions = {}) {
    this.hosts = new RegExp(opts.certificateHosts ?? DEFAULT_SNS_CERT_HOSTS);
    this.fetchCert = opts.fetchCertificate ?? defaultFetch;
    this.cacheSize = opts.cacheSize ?? 16;
    this.now = opts.now ?? (() => new Date());
  }

  /** Resolves when the signature is valid; throws SnsSignatureError saying why it is not. */
  async verify(msg: SnsMessage): Promise<void> {
    const algorithm = msg.SignatureVersion === '1' ? 'RSA-SHA1' : msg.SignatureVersion === '2' ? 'RSA-SHA256' : undefined;
    if (!algorithm) throw new SnsSignatureError(`unsupported SignatureVersion ${JSON.stringify(msg.SignatureVersion)} (expected "1" or "2")`);
    if (typeof msg.Signature !== 'string' || msg.Signature.length === 0) throw new SnsSignatureError('Signature is missing');
    const url = this.certificateUrl(msg.SigningCertURL);
    const cert = await this.certificate(url);
    const now = this.now().getTime();
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) throw new SnsSignatureError('the signing certificate is not valid at this time');
    const verifier = createVerify(algorithm);
    verifier.update(canonicalString(msg), 'utf8');
    let ok: boolean;
    try {
      ok = verifier.verify(cert.publicKey, msg.Signature, 'base64');
    } catch {
      ok = false;
    }
    if (!ok) throw new SnsSignatureError('the signature does not match the message');
  }

  private certificateUrl(raw: string | undefined): URL {
    if (typeof raw !== 'string' || raw.length === 0) throw new SnsSignatureError('SigningCertURL is missing');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new SnsSignatureError('SigningCertURL is not a URL');
    }
    if (url.protocol !== 'https:') throw new SnsSignatureError('SigningCertURL must use https');
    if (url.username || url.password || url.port) throw new SnsSignatureError('SigningCertURL must not carry credentials or a port');
    if (!this.hosts.test(url.hostname)) throw new SnsSignatureError(`SigningCertURL host ${url.hostname} is not an allowed SNS host`);
    if (!url.pathname.endsWith('.pem')) throw new SnsSignatureError('SigningCertURL must name a .pem certificate');
    return url;
  }

  private certificate(url: URL): Promise<X509Certificate> {
    const key = url.href;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const p = this.fetchCert(url).then(
      (pem) => {
        try {
          return new X509Certificate(pem);
        } catch (err) {
          throw new SnsSignatureError(`the signing certificate is not a PEM X.509 certificate: ${(err as Error).message}`);
        }
      },
      (err: unknown) => {
        throw new SnsCertificateUnavailableError(`cannot download the signing certificate ${key}: ${(err as Error).message}`);
      },
    );
    p.catch(() => this.cache.delete(key));
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, p);
    return p;
  }
}
