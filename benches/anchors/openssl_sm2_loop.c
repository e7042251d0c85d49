/* The SM2 verification loop a user of OpenSSL 3 would write, over the signatures of
 * `cargo run --release --example sm2_signatures -- N K OUT` (OUT.txt: one
 * "PUBLIC_KEY MESSAGE SIGNATURE" hex line each, default ID 1234567812345678): each
 * signature's key decoded from its bytes, the ID set, then EVP_DigestVerify with SM3,
 * on THREADS threads taking every THREADS-th signature. The anchor beside
 * `veribatch verify sm2 OUT.ndjson` in docs/PERFORMANCE.md.
 *
 *   cc -O2 -o /tmp/openssl_sm2_loop benches/anchors/openssl_sm2_loop.c -lcrypto -lpthread
 *   /tmp/openssl_sm2_loop OUT.txt THREADS
 *
 * Prints the signatures verified, how many were valid, the seconds of the loop (reading
 * excluded) and the rate. Exit 1 if any signature is not valid.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct item {
    unsigned char *key, *msg, *sig;
    size_t key_len, msg_len, sig_len;
};

static struct item *items;
static size_t count;
static int threads;

static unsigned char *unhex(const char *text, size_t digits, size_t *len) {
    unsigned char *out = malloc(digits / 2 + 1);
    for (size_t i = 0; i < digits / 2; ++i) sscanf(text + 2 * i, "%2hhx", &out[i]);
    *len = digits / 2;
    return out;
}

static int verify(const struct item *it) {
    static const char id[] = "1234567812345678";
    EVP_PKEY_CTX *from = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    EVP_PKEY *key = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, it->key, it->key_len),
        OSSL_PARAM_construct_end(),
    };
    int ok = from && EVP_PKEY_fromdata_init(from) == 1 &&
             EVP_PKEY_fromdata(from, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = ok ? EVP_PKEY_CTX_new(key, NULL) : NULL;
    ok = ok && md && pctx && EVP_PKEY_CTX_set1_id(pctx, id, strlen(id)) == 1;
    if (ok) EVP_MD_CTX_set_pkey_ctx(md, pctx);
    ok = ok && EVP_DigestVerifyInit(md, NULL, EVP_sm3(), NULL, key) == 1 &&
         EVP_DigestVerify(md, it->sig, it->sig_len, it->msg, it->msg_len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(from);
    return ok;
}

static void *run(void *arg) {
    size_t first = (size_t)arg, *valid = calloc(1, sizeof(size_t));
    for (size_t i = first; i < count; i += threads) *valid += verify(&items[i]);
    return valid;
}

int main(int argc, char **argv) {
    if (argc != 3 || (threads = atoi(argv[2])) < 1) {
        fprintf(stderr, "usage: openssl_sm2_loop FILE THREADS\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    size_t cap = 1024;
    items = malloc(cap * sizeof *items);
    char *line = NULL;
    size_t line_cap = 0;
    while (getline(&line, &line_cap, in) > 0) {
        char *key = strtok(line, " \n"), *msg = strtok(NULL, " \n"), *sig = strtok(NULL, " \n");
        if (!key || !msg || !sig) continue;
        if (count == cap) items = realloc(items, (cap *= 2) * sizeof *items);
        struct item *it = &items[count++];
        it->key = unhex(key, strlen(key), &it->key_len);
        it->msg = unhex(msg, strlen(msg), &it->msg_len);
        it->sig = unhex(sig, strlen(sig), &it->sig_len);
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_t *pool = malloc(threads * sizeof *pool);
    for (int t = 0; t < threads; ++t) pthread_create(&pool[t], NULL, run, (void *)(size_t)t);
    size_t valid = 0;
    for (int t = 0; t < threads; ++t) {
        void *v;
        pthread_join(pool[t], &v);
        valid += *(size_t *)v;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("%zu signatures, %zu valid, %d threads, %.3f s, %.0f verifications/s\n", count, valid,
           threads, seconds, count / seconds);
    return valid == count ? 0 : 1;
}
