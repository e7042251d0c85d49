/* The SM2 verification loop a user of OpenSSL 3 would write, over the signatures of
 * `cargo run --release --example sm2_signatures -- N K OUT` (OUT.txt: one
 * "PUBLIC_KEY MESSAGE SIGNATURE" hex line each, default ID 1234567812345678): the ID
 * set, then EVP_DigestVerify with SM3, on THREADS threads taking every THREADS-th
 * signature. With `decode`, each signature's key is decoded from its bytes; with
 * `cached`, each thread decodes a key the first time it meets it and keeps it (as a
 * node would keep its accounts' keys). The anchor beside `veribatch verify sm2
 * OUT.ndjson` in docs/PERFORMANCE.md.
 *
 *   cc -O2 -o /tmp/openssl_sm2_loop benches/anchors/openssl_sm2_loop.c -lcrypto -lpthread
 *   /tmp/openssl_sm2_loop OUT.txt THREADS decode|cached
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
    /* The key's place among the distinct keys. */
    size_t key_id;
};

static struct item *items;
static size_t count, distinct_keys;
static int threads, cached;

static unsigned char *unhex(const char *text, size_t digits, size_t *len) {
    unsigned char *out = malloc(digits / 2 + 1);
    for (size_t i = 0; i < digits / 2; ++i) sscanf(text + 2 * i, "%2hhx", &out[i]);
    *len = digits / 2;
    return out;
}

static EVP_PKEY *decode(const struct item *it) {
    EVP_PKEY_CTX *from = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    EVP_PKEY *key = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, it->key, it->key_len),
        OSSL_PARAM_construct_end(),
    };
    if (!from || EVP_PKEY_fromdata_init(from) != 1 ||
        EVP_PKEY_fromdata(from, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(from);
    return key;
}

static int verify(const struct item *it, EVP_PKEY *key) {
    static const char id[] = "1234567812345678";
    int ok = key != NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = ok ? EVP_PKEY_CTX_new(key, NULL) : NULL;
    ok = ok && md && pctx && EVP_PKEY_CTX_set1_id(pctx, id, strlen(id)) == 1;
    if (ok) EVP_MD_CTX_set_pkey_ctx(md, pctx);
    ok = ok && EVP_DigestVerifyInit(md, NULL, EVP_sm3(), NULL, key) == 1 &&
         EVP_DigestVerify(md, it->sig, it->sig_len, it->msg, it->msg_len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_CTX_free(pctx);
    return ok;
}

static void *run(void *arg) {
    size_t first = (size_t)arg, *valid = calloc(1, sizeof(size_t));
    EVP_PKEY **keys = calloc(distinct_keys, sizeof *keys);
    for (size_t i = first; i < count; i += threads) {
        const struct item *it = &items[i];
        if (!cached) {
            EVP_PKEY *key = decode(it);
            *valid += verify(it, key);
            EVP_PKEY_free(key);
            continue;
        }
        if (!keys[it->key_id]) keys[it->key_id] = decode(it);
        *valid += verify(it, keys[it->key_id]);
    }
    for (size_t k = 0; k < distinct_keys; ++k) EVP_PKEY_free(keys[k]);
    free(keys);
    return valid;
}

/* Orders item indices by key bytes, so that equal keys can be numbered. */
static int by_key(const void *a, const void *b) {
    const struct item *x = &items[*(const size_t *)a], *y = &items[*(const size_t *)b];
    if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
    return memcmp(x->key, y->key, x->key_len);
}

int main(int argc, char **argv) {
    if (argc != 4 || (threads = atoi(argv[2])) < 1 ||
        (strcmp(argv[3], "decode") && strcmp(argv[3], "cached"))) {
        fprintf(stderr, "usage: openssl_sm2_loop FILE THREADS decode|cached\n");
        return 2;
    }
    cached = !strcmp(argv[3], "cached");
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
    size_t *order = malloc(count * sizeof *order);
    for (size_t i = 0; i < count; ++i) order[i] = i;
    qsort(order, count, sizeof *order, by_key);
    for (size_t i = 0; i < count; ++i) {
        if (i > 0 && by_key(&order[i - 1], &order[i]) != 0) ++distinct_keys;
        items[order[i]].key_id = distinct_keys;
    }
    if (count > 0) ++distinct_keys;
    free(order);
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
    printf("%zu signatures (%zu keys), %zu valid, %d threads, keys %s, %.3f s, %.0f "
           "verifications/s\n",
           count, distinct_keys, valid, threads, argv[3], seconds, count / seconds);
    return valid == count ? 0 : 1;
}
