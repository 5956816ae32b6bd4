// Hypha's AEAD addon (N-API, plain C): AES-256-GCM (the E2E seal of overlay packets) and ChaCha20-Poly1305
// (the Noise transport of native links) through the OpenSSL that Node itself is built with and exports, so
// the bytes are those of node:crypto and there is no new dependency.
//
// Why it exists: node:crypto has no way to reuse a cipher across messages — every createCipheriv() builds a
// fresh OpenSSL context, expands the key and allocates three JS objects, which costs about ten times the
// encryption of a 1,400-byte packet (bench/e2e-seal.ts). Here a key holds one encryption and one decryption
// context, set up once; a message only sets the nonce. Inputs and outputs are (buffer, offset) pairs so the
// data plane encrypts straight into the frame it sends, or in place. src/crypto/aead.ts falls back to
// node:crypto when this addon is not built.
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/evp.h>

#include <stdint.h>
#include <stdlib.h>

#define TAG_BYTES 16
#define NONCE_BYTES 12
#define KEY_BYTES 32

enum { ALG_AES_256_GCM = 0, ALG_CHACHA20_POLY1305 = 1 };

typedef struct {
  EVP_CIPHER_CTX* enc;
  EVP_CIPHER_CTX* dec;
} aead_key_t;

static napi_value throw_range(napi_env env, const char* msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

static napi_value throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static void key_free(aead_key_t* k) {
  if (k == NULL) return;
  EVP_CIPHER_CTX_free(k->enc);
  EVP_CIPHER_CTX_free(k->dec);
  free(k);
}

static void key_finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  key_free(data);
}

// A Uint8Array (or Buffer) argument: its bytes and length.
static bool get_bytes(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  size_t length = 0;
  void* ptr = NULL;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, NULL, NULL) != napi_ok || type != napi_uint8_array) return false;
  *data = ptr;
  *len = length;
  return true;
}

static bool get_u32(napi_env env, napi_value v, uint32_t* out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

// key(alg, keyBytes[32]) → handle
static napi_value aead_key(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_type(env, "key(alg, key)");
  uint32_t alg = 0;
  uint8_t* key = NULL;
  size_t key_len = 0;
  if (!get_u32(env, argv[0], &alg) || !get_bytes(env, argv[1], &key, &key_len)) return throw_type(env, "key(alg, key: Uint8Array)");
  if (key_len != KEY_BYTES) return throw_range(env, "key must be 32 bytes");
  const EVP_CIPHER* cipher = alg == ALG_AES_256_GCM ? EVP_aes_256_gcm() : alg == ALG_CHACHA20_POLY1305 ? EVP_chacha20_poly1305() : NULL;
  if (cipher == NULL) return throw_range(env, "unknown algorithm");
  aead_key_t* k = calloc(1, sizeof *k);
  if (k == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  k->enc = EVP_CIPHER_CTX_new();
  k->dec = EVP_CIPHER_CTX_new();
  if (k->enc == NULL || k->dec == NULL || EVP_EncryptInit_ex(k->enc, cipher, NULL, key, NULL) != 1 ||
      EVP_DecryptInit_ex(k->dec, cipher, NULL, key, NULL) != 1) {
    key_free(k);
    napi_throw_error(env, "ECRYPTO", "cannot set up the cipher");
    return NULL;
  }
  napi_value handle;
  if (napi_create_external(env, k, key_finalize, NULL, &handle) != napi_ok) {
    key_free(k);
    return NULL;
  }
  return handle;
}

typedef struct {
  aead_key_t* key;
  const uint8_t* nonce;
  const uint8_t* aad;
  size_t aad_len;
  uint8_t* src;
  uint8_t* dst;
  size_t len;
} op_t;

// (key, nonce, nonceOff, aad|null, src, srcOff, len, dst, dstOff): the shared argument list of seal and open.
// `extra` is the number of bytes after src[srcOff + len] (open: the tag) or dst[dstOff + len] (seal: the tag)
// that must be in bounds.
static bool parse_op(napi_env env, napi_callback_info info, op_t* op, bool sealing) {
  size_t argc = 9;
  napi_value argv[9];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 9) {
    throw_type(env, "(key, nonce, nonceOff, aad, src, srcOff, len, dst, dstOff)");
    return false;
  }
  void* kp = NULL;
  uint8_t *nonce, *src, *dst;
  size_t nonce_len, src_len, dst_len;
  uint32_t nonce_off, src_off, len, dst_off;
  if (napi_get_value_external(env, argv[0], &kp) != napi_ok || kp == NULL || !get_bytes(env, argv[1], &nonce, &nonce_len) ||
      !get_u32(env, argv[2], &nonce_off) || !get_bytes(env, argv[4], &src, &src_len) || !get_u32(env, argv[5], &src_off) ||
      !get_u32(env, argv[6], &len) || !get_bytes(env, argv[7], &dst, &dst_len) || !get_u32(env, argv[8], &dst_off)) {
    throw_type(env, "(key, nonce, nonceOff, aad, src, srcOff, len, dst, dstOff)");
    return false;
  }
  op->aad = NULL;
  op->aad_len = 0;
  napi_valuetype t;
  if (napi_typeof(env, argv[3], &t) != napi_ok) return false;
  if (t != napi_null && t != napi_undefined) {
    uint8_t* aad;
    if (!get_bytes(env, argv[3], &aad, &op->aad_len)) {
      throw_type(env, "aad must be a Uint8Array or null");
      return false;
    }
    op->aad = aad;
  }
  size_t src_need = (size_t)src_off + len + (sealing ? 0 : TAG_BYTES);
  size_t dst_need = (size_t)dst_off + len + (sealing ? TAG_BYTES : 0);
  if ((size_t)nonce_off + NONCE_BYTES > nonce_len || src_need > src_len || dst_need > dst_len || len > INT32_MAX ||
      op->aad_len > INT32_MAX) {
    throw_range(env, "offset or length out of bounds");
    return false;
  }
  op->src = src + src_off;
  op->dst = dst + dst_off;
  // OpenSSL allows exactly in-place or disjoint buffers, never a partial overlap.
  size_t src_extent = len + (sealing ? 0 : TAG_BYTES), dst_extent = len + (sealing ? TAG_BYTES : 0);
  if (op->src != op->dst && src_extent > 0 && op->src < op->dst + dst_extent && op->dst < op->src + src_extent) {
    throw_range(env, "source and destination overlap without being the same bytes");
    return false;
  }
  op->key = kp;
  op->nonce = nonce + nonce_off;
  op->len = len;
  return true;
}

// seal(key, nonce, nonceOff, aad, src, srcOff, len, dst, dstOff): dst[dstOff..] = ciphertext(len) ‖ tag(16).
static napi_value aead_seal(napi_env env, napi_callback_info info) {
  op_t op;
  if (!parse_op(env, info, &op, true)) return NULL;
  EVP_CIPHER_CTX* c = op.key->enc;
  int n = 0;
  bool ok = EVP_EncryptInit_ex(c, NULL, NULL, NULL, op.nonce) == 1 &&
            (op.aad_len == 0 || EVP_EncryptUpdate(c, NULL, &n, op.aad, (int)op.aad_len) == 1) &&
            EVP_EncryptUpdate(c, op.dst, &n, op.src, (int)op.len) == 1 && EVP_EncryptFinal_ex(c, op.dst + n, &n) == 1 &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_BYTES, op.dst + op.len) == 1;
  if (!ok) napi_throw_error(env, "ECRYPTO", "encryption failed");
  return NULL;
}

// open(key, nonce, nonceOff, aad, src, srcOff, len, dst, dstOff) → true if the tag at src[srcOff + len] verifies;
// dst[dstOff..dstOff + len] then holds the plaintext (on false it holds garbage).
static napi_value aead_open(napi_env env, napi_callback_info info) {
  op_t op;
  if (!parse_op(env, info, &op, false)) return NULL;
  EVP_CIPHER_CTX* c = op.key->dec;
  uint8_t tag[TAG_BYTES];
  // Copied first: in place, the plaintext must not overwrite the tag before it is checked (it never does,
  // the tag lies after the ciphertext, but this keeps the order obvious).
  for (int i = 0; i < TAG_BYTES; i++) tag[i] = op.src[op.len + i];
  int n = 0;
  bool ok = EVP_DecryptInit_ex(c, NULL, NULL, NULL, op.nonce) == 1 &&
            (op.aad_len == 0 || EVP_DecryptUpdate(c, NULL, &n, op.aad, (int)op.aad_len) == 1) &&
            EVP_DecryptUpdate(c, op.dst, &n, op.src, (int)op.len) == 1 &&
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_BYTES, tag) == 1 && EVP_DecryptFinal_ex(c, op.dst + n, &n) == 1;
  napi_value r;
  napi_get_boolean(env, ok, &r);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"key", NULL, aead_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seal", NULL, aead_seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"open", NULL, aead_open, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE_INIT() {
  return init(env, exports);
}
