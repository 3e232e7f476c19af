// Signing of imgmgr variant URLs, byte for byte as variant/sign.go does it
// (imgproxy's scheme): signature = base64url_nopad(HMAC-SHA256(key,
// salt || path)[:size]), where path is everything after the signature
// segment, leading "/" included. The shared vectors in
// variant/testdata/sign_vectors.json pin both implementations.

const encoder = new TextEncoder()

// hexBytes decodes a hex string (either case). It throws on odd length or a
// non-hex digit, so that a mistyped secret fails loudly instead of signing
// with a different key.
export function hexBytes (hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error('not a hex string')
  }
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

function base64url (bytes) {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

// Signer signs paths with one key/salt pair. The CryptoKey is imported once
// per Signer; sign is safe to call concurrently.
export class Signer {
  // keyHex and saltHex are as in imgmgr's delivery.keys (hex; key not
  // empty); size is delivery.signature_size (1..32 bytes kept).
  constructor (keyHex, saltHex, size = 32) {
    const key = hexBytes(keyHex)
    if (key.length === 0) throw new Error('the key is empty')
    if (!Number.isInteger(size) || size < 1 || size > 32) throw new Error('the signature size must be 1..32')
    this.salt = hexBytes(saltHex)
    this.size = size
    this.key = crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  }

  // signature returns the signature of path (a string starting with "/";
  // hashed as UTF-8, as Go hashes a string's bytes).
  async signature (path) {
    const p = encoder.encode(path)
    const msg = new Uint8Array(this.salt.length + p.length)
    msg.set(this.salt)
    msg.set(p, this.salt.length)
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await this.key, msg))
    return base64url(mac.subarray(0, this.size))
  }

  // sign returns prefix + "/" + signature + path, the URL path imgmgr
  // serves (prefix is delivery's path prefix, "/img" by default).
  async sign (prefix, path) {
    return prefix + '/' + await this.signature(path) + path
  }
}
