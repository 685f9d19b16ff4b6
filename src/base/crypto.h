/*
 * crypto: the service's uses of libsodium.
 *
 * Random ids and secrets, constant-time checks of inbound secrets (stored
 * only as BLAKE2b hashes), authenticated encryption of the API tokens we
 * keep (XChaCha20-Poly1305 with a key from a separate file, the integration
 * id and field name as associated data so a ciphertext cannot be moved to
 * another row), and Argon2id password hashes for admin users.
 */
#ifndef PBSYNC_CRYPTO_H
#define PBSYNC_CRYPTO_H

#include <stddef.h>

#define CRYPTO_ID_LEN		32	/* hex characters of a 128-bit id */
#define CRYPTO_SECRET_LEN	43	/* base64url of 256 bits */
#define CRYPTO_HASH_LEN		64	/* hex of a 256-bit hash */
#define CRYPTO_KEY_BYTES	32
#define CRYPTO_MAC_LEN		32	/* bytes of an HMAC-SHA256 */

struct crypto_key {
	unsigned char	 k[CRYPTO_KEY_BYTES];
	int		 loaded;
};

int	 crypto_init(void);
void	 crypto_random_id(char out[CRYPTO_ID_LEN + 1]);
void	 crypto_random_secret(char out[CRYPTO_SECRET_LEN + 1]);
void	 crypto_digest(const char *, char out[CRYPTO_HASH_LEN + 1]);
/* 1 when hash(presented) equals stored, in constant time; 0 otherwise. */
int	 crypto_check(const char *presented, const char *stored_hash);
int	 crypto_equal(const void *, const void *, size_t);
/* The lower-case hex HMAC-SHA256 of len bytes of data under key. */
void	 crypto_hmac_sha256_hex(const char *key, const void *data, size_t len,
	    char out[2 * CRYPTO_MAC_LEN + 1]);
/* HMAC-SHA256 under a key of keylen bytes. */
void	 crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
	    size_t len, unsigned char out[CRYPTO_MAC_LEN]);
/* Standard base64 with padding, NUL-terminated: 0, or -1 if out is short. */
int	 crypto_base64(const void *, size_t, char *out, size_t outlen);
/* Decodes standard base64: the byte count, or -1 (bad input, too long). */
long	 crypto_base64_decode(const char *, void *out, size_t outlen);
void	 crypto_wipe(void *, size_t);

/* Creates a new key file (mode 0600, refusing to overwrite): 0 or -1. */
int	 crypto_key_create(const char *path);
/* Loads a key file, refusing one readable by group or others. */
int	 crypto_key_load(struct crypto_key *, const char *path);
void	 crypto_key_release(struct crypto_key *);

/*
 * Encrypts plain with ad as associated data.  Returns a heap string
 * "v1.<base64url>" the caller frees, or NULL.
 */
char	*crypto_seal(const struct crypto_key *, const char *plain,
	    const char *ad);
/* Decrypts what crypto_seal made; heap string or NULL if tampered. */
char	*crypto_open(const struct crypto_key *, const char *sealed,
	    const char *ad);
/* Frees a string that held a secret after wiping it. */
void	 crypto_free_secret(char *);

/* Argon2id hash string of a password, or NULL. */
char	*crypto_pw_hash(const char *password);
int	 crypto_pw_verify(const char *hash, const char *password);

#endif
