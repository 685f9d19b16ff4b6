#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crypto.h"
#include "base/log.h"
#include "t.h"

int
main(void)
{
	struct crypto_key k, k2;
	char	 id[CRYPTO_ID_LEN + 1], id2[CRYPTO_ID_LEN + 1];
	char	 sec[CRYPTO_SECRET_LEN + 1], h[CRYPTO_HASH_LEN + 1];
	char	 path[] = "/tmp/pbsync-test-key-XXXXXX", path2[64];
	char	*sealed, *plain, *hash;
	int	 fd;

	log_open("test_crypto", LOGL_ERR, NULL);
	CHECK_INT(crypto_init(), 0);
	crypto_random_id(id);
	crypto_random_id(id2);
	CHECK_INT(strlen(id), 32);
	CHECK(strcmp(id, id2) != 0);
	crypto_random_secret(sec);
	CHECK_INT(strlen(sec), 43);
	crypto_digest("Bearer x", h);
	/* BLAKE2b-256 of "Bearer x", as tests compute with hashlib. */
	CHECK_INT(strlen(h), 64);
	CHECK(crypto_check("Bearer x", h));
	CHECK(!crypto_check("Bearer y", h));
	CHECK(!crypto_check(NULL, h));
	CHECK(!crypto_check("Bearer x", "short"));
	/* Every byte of the hash counts, the last one too. */
	h[63] = h[63] == '0' ? '1' : '0';
	CHECK(!crypto_check("Bearer x", h));

	fd = mkstemp(path);
	close(fd);
	unlink(path);
	CHECK_INT(crypto_key_create(path), 0);
	CHECK_INT(crypto_key_create(path), -1);		/* never overwrite */
	CHECK_INT(crypto_key_load(&k, path), 0);
	sealed = crypto_seal(&k, "glpat-secret-token", "id1:gl_token");
	CHECK(sealed != NULL && strncmp(sealed, "v1.", 3) == 0);
	CHECK(strstr(sealed, "glpat") == NULL);
	plain = crypto_open(&k, sealed, "id1:gl_token");
	CHECK_STR(plain, "glpat-secret-token");
	crypto_free_secret(plain);
	CHECK(crypto_open(&k, sealed, "id2:gl_token") == NULL);	/* moved row */
	sealed[10] = sealed[10] == 'A' ? 'B' : 'A';
	CHECK(crypto_open(&k, sealed, "id1:gl_token") == NULL);	/* tampered */
	free(sealed);
	CHECK(crypto_open(&k, "garbage", "x") == NULL);

	snprintf(path2, sizeof(path2), "%s.other", path);
	CHECK_INT(crypto_key_create(path2), 0);
	CHECK_INT(crypto_key_load(&k2, path2), 0);
	sealed = crypto_seal(&k, "t", "a");
	CHECK(crypto_open(&k2, sealed, "a") == NULL);	/* other key file */
	free(sealed);
	chmod(path2, 0644);
	CHECK_INT(crypto_key_load(&k2, path2), -1);	/* readable by others */
	unlink(path);
	unlink(path2);

	hash = crypto_pw_hash("correct horse battery");
	CHECK(hash != NULL && strncmp(hash, "$argon2id$", 10) == 0);
	CHECK(crypto_pw_verify(hash, "correct horse battery"));
	CHECK(!crypto_pw_verify(hash, "wrong"));
	free(hash);
	crypto_key_release(&k);
	crypto_key_release(&k2);
	return t_done();
}
