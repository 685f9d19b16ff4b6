#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/crypto.h"
#include "base/log.h"

#define SEAL_PREFIX	"v1."
#define B64		sodium_base64_VARIANT_URLSAFE_NO_PADDING

int
crypto_init(void)
{
	if (sodium_init() < 0) {
		log_err("libsodium initialisation failed");
		return -1;
	}
	return 0;
}

void
crypto_random_id(char out[CRYPTO_ID_LEN + 1])
{
	unsigned char	 raw[CRYPTO_ID_LEN / 2];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, CRYPTO_ID_LEN + 1, raw, sizeof(raw));
}

void
crypto_random_secret(char out[CRYPTO_SECRET_LEN + 1])
{
	unsigned char	 raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, CRYPTO_SECRET_LEN + 1, raw, sizeof(raw), B64);
	sodium_memzero(raw, sizeof(raw));
}

void
crypto_digest(const char *s, char out[CRYPTO_HASH_LEN + 1])
{
	unsigned char	 h[CRYPTO_HASH_LEN / 2];

	crypto_generichash(h, sizeof(h), (const unsigned char *)s, strlen(s),
	    NULL, 0);
	sodium_bin2hex(out, CRYPTO_HASH_LEN + 1, h, sizeof(h));
}

int
crypto_check(const char *presented, const char *stored_hash)
{
	char	 h[CRYPTO_HASH_LEN + 1];

	crypto_digest(presented != NULL ? presented : "", h);
	if (stored_hash == NULL || strlen(stored_hash) != CRYPTO_HASH_LEN)
		return 0;
	return sodium_memcmp(h, stored_hash, CRYPTO_HASH_LEN) == 0;
}

void
crypto_hmac_sha256_hex(const char *key, const void *data, size_t len,
    char out[2 * CRYPTO_MAC_LEN + 1])
{
	unsigned char	 mac[CRYPTO_MAC_LEN];

	crypto_hmac_sha256(key, strlen(key), data, len, mac);
	sodium_bin2hex(out, 2 * CRYPTO_MAC_LEN + 1, mac, sizeof(mac));
}

void
crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, unsigned char out[CRYPTO_MAC_LEN])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

int
crypto_base64(const void *bin, size_t n, char *out, size_t outlen)
{
	if (outlen < sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_ORIGINAL))
		return -1;
	sodium_bin2base64(out, outlen, bin, n, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

long
crypto_base64_decode(const char *s, void *out, size_t outlen)
{
	size_t	 n;

	if (sodium_base642bin(out, outlen, s, strlen(s), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (long)n;
}

int
crypto_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

void
crypto_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

int
crypto_key_create(const char *path)
{
	unsigned char	 k[CRYPTO_KEY_BYTES];
	int		 fd;
	ssize_t		 n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		log_err("cannot create key file \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	randombytes_buf(k, sizeof(k));
	n = write(fd, k, sizeof(k));
	sodium_memzero(k, sizeof(k));
	if (n != (ssize_t)sizeof(k) || fsync(fd) == -1) {
		log_err("cannot write key file \"%s\"", path);
		close(fd);
		unlink(path);
		return -1;
	}
	return close(fd);
}

int
crypto_key_load(struct crypto_key *key, const char *path)
{
	struct stat	 st;
	int		 fd;
	ssize_t		 n;

	key->loaded = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_err("cannot open key file \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || (st.st_mode & 077) != 0) {
		log_err("key file \"%s\" must be readable by its owner only",
		    path);
		close(fd);
		return -1;
	}
	n = read(fd, key->k, sizeof(key->k));
	close(fd);
	if (n != (ssize_t)sizeof(key->k)) {
		log_err("key file \"%s\" is not %d bytes", path,
		    CRYPTO_KEY_BYTES);
		sodium_memzero(key->k, sizeof(key->k));
		return -1;
	}
	key->loaded = 1;
	return 0;
}

void
crypto_key_release(struct crypto_key *key)
{
	sodium_memzero(key, sizeof(*key));
}

char *
crypto_seal(const struct crypto_key *key, const char *plain, const char *ad)
{
	size_t		 plen = strlen(plain), rawlen, b64len;
	unsigned char	*raw = NULL;
	char		*out = NULL;

	if (!key->loaded)
		return NULL;
	rawlen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plen +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES;
	b64len = sodium_base64_ENCODED_LEN(rawlen, B64);
	if ((raw = malloc(rawlen)) == NULL ||
	    (out = malloc(sizeof(SEAL_PREFIX) - 1 + b64len)) == NULL)
		goto out;
	randombytes_buf(raw, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    raw + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL,
	    (const unsigned char *)plain, plen, (const unsigned char *)ad,
	    strlen(ad), NULL, raw, key->k);
	memcpy(out, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1);
	sodium_bin2base64(out + sizeof(SEAL_PREFIX) - 1, b64len, raw, rawlen,
	    B64);
out:
	free(raw);
	return out;
}

char *
crypto_open(const struct crypto_key *key, const char *sealed, const char *ad)
{
	size_t		 slen, rawlen, cap;
	unsigned char	*raw = NULL;
	char		*plain = NULL;
	unsigned long long plen;
	const size_t	 nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

	if (!key->loaded || sealed == NULL ||
	    strncmp(sealed, SEAL_PREFIX, sizeof(SEAL_PREFIX) - 1) != 0)
		return NULL;
	sealed += sizeof(SEAL_PREFIX) - 1;
	slen = strlen(sealed);
	cap = slen * 3 / 4 + 1;
	if ((raw = malloc(cap)) == NULL)
		return NULL;
	if (sodium_base642bin(raw, cap, sealed, slen, NULL, &rawlen, NULL,
	    B64) != 0 || rawlen < nb + crypto_aead_xchacha20poly1305_ietf_ABYTES)
		goto out;
	if ((plain = malloc(rawlen)) == NULL)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)plain,
	    &plen, NULL, raw + nb, rawlen - nb, (const unsigned char *)ad,
	    strlen(ad), raw, key->k) != 0) {
		free(plain);
		plain = NULL;
		goto out;
	}
	plain[plen] = '\0';
out:
	free(raw);
	return plain;
}

void
crypto_free_secret(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

char *
crypto_pw_hash(const char *password)
{
	char	*out;

	if ((out = malloc(crypto_pwhash_STRBYTES)) == NULL)
		return NULL;
	if (crypto_pwhash_str(out, password, strlen(password),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int
crypto_pw_verify(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}
