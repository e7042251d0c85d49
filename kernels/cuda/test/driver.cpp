// Host test driver: runs the kernels' arithmetic (the same __host__ __device__ headers
// NVRTC compiles) on the CPU so the Rust tests can compare it with blst and sha2.
//
//   g++ -O2 -std=c++17 -I kernels/cuda kernels/cuda/test/driver.cpp
//
// Reads lines `OP ARG ...` from stdin and answers each with one line: the result as hex,
// or `error <reason>`. Values are raw little-endian bytes in blst's layouts (Montgomery
// form); `-` stands for an empty hex string, in arguments and in results. Field
// elements must be canonical (< p).
#include <cctype>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "ec/g1.cuh"
#include "ec/g2.cuh"
#include "hash/log.cuh"
#include "hash/merkle.cuh"
#include "hash/sha256.cuh"
#include "hash/sm3.cuh"
#include "msm/pippenger.cuh"
#include "reduce/sum.cuh"

using namespace vb;

static_assert(sizeof(fp) == 48 && sizeof(fp2) == 96, "field layout must match blst");
static_assert(sizeof(g1_affine) == 96 && sizeof(g1_xyz) == 144, "G1 layout");
static_assert(sizeof(g2_affine) == 192 && sizeof(g2_xyz) == 288, "G2 layout");

// A malformed line; its message becomes the `error` answer.
struct bad_input : std::runtime_error {
    using std::runtime_error::runtime_error;
};

typedef std::vector<std::string> args_t;

static std::vector<u8> hex_decode(const std::string& s) {
    if (s == "-") return {};
    if (s.size() % 2) throw bad_input("odd-length hex");
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw bad_input("invalid hex digit");
    };
    std::vector<u8> out(s.size() / 2);
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = (u8)(nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]));
    return out;
}

static std::string hex_encode(const void* data, size_t len) {
    if (len == 0) return "-";
    static const char digits[] = "0123456789abcdef";
    const u8* p = (const u8*)data;
    std::string s(2 * len, '0');
    for (size_t i = 0; i < len; ++i) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    return s;
}

template <class T>
static std::string hex_encode(const std::vector<T>& v) {
    return hex_encode(v.data(), v.size() * sizeof(T));
}

static u32 parse_u32(const std::string& s) {
    if (s.empty() || s.size() > 10) throw bad_input("bad number");
    u64 v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') throw bad_input("bad number");
        v = 10 * v + (u64)(c - '0');
    }
    if (v > 0xffffffffULL) throw bad_input("number out of range");
    return (u32)v;
}

// The kernels assume reduced field elements; an unreduced one is a malformed input.
static bool canonical(const fp& a) {
    const fp p = fp_modulus();
    for (int i = 5; i >= 0; --i)
        if (a.l[i] != p.l[i]) return a.l[i] < p.l[i];
    return false;
}
static bool canonical(const fp2& a) { return canonical(a.c0) && canonical(a.c1); }
template <class F>
static bool canonical(const affine<F>& a) { return canonical(a.x) && canonical(a.y); }
template <class F>
static bool canonical(const xyz<F>& a) {
    return canonical(a.x) && canonical(a.y) && canonical(a.z);
}
static bool canonical(u32) { return true; }

// A hex argument as an array of T (fields, points or u32), checked for canonical fields.
template <class T>
static std::vector<T> parse_array(const std::string& hex) {
    const std::vector<u8> bytes = hex_decode(hex);
    if (bytes.size() % sizeof(T)) throw bad_input("length is not a multiple of the element size");
    std::vector<T> out(bytes.size() / sizeof(T));
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    for (const T& v : out)
        if (!canonical(v)) throw bad_input("non-canonical field element");
    return out;
}

template <class T>
static T parse_one(const std::string& hex) {
    const std::vector<T> v = parse_array<T>(hex);
    if (v.size() != 1) throw bad_input("wrong length");
    return v[0];
}

template <class F>
static std::vector<affine<F>> all_to_affine(const std::vector<xyz<F>>& points) {
    std::vector<affine<F>> out;
    for (const xyz<F>& p : points) out.push_back(to_affine(p));
    return out;
}

// Z of the projective test inputs: small, nonzero, varying with i.
static fp small_fp(size_t i) {
    fp s = dbl(fp::one());
    for (size_t k = 0; k < i % 64; ++k) s = add(s, fp::one());
    return s;
}
static void scaling(size_t i, fp& z) { z = small_fp(i); }
static void scaling(size_t i, fp2& z) { z = make_fp2(small_fp(i), fp::one()); }

// Affine points in projective form with Z != 1 (varying per point), so the projective
// code paths see general inputs; infinity becomes (0, Z, 0).
template <class F>
static std::vector<xyz<F>> to_projective(const std::vector<affine<F>>& points) {
    std::vector<xyz<F>> out;
    for (size_t i = 0; i < points.size(); ++i) {
        F z;
        scaling(i, z);
        const xyz<F> p = from_affine(points[i]);
        xyz<F> q = {mul(p.x, z), mul(p.y, z), mul(p.z, z)};
        out.push_back(q);
    }
    return out;
}

// The sum kernels run sequentially: GRID blocks of SUM_THREADS threads, each thread's
// strided sum, the shared-memory tree per block (threads below `half` only read slots
// at or above it, so one level in thread order is the parallel level), then the host's
// addition of the block results.
template <class F, class In>
static xyz<F> emulate_sum(const std::vector<In>& points) {
    const u32 grid = 3;
    xyz<F> total = identity<F>();
    for (u32 block = 0; block < grid; ++block) {
        xyz<F> slots[SUM_THREADS];
        for (u32 t = 0; t < SUM_THREADS; ++t)
            slots[t] = strided_sum(points.data(), (u32)points.size(), (u64)block * SUM_THREADS + t,
                                   (u64)grid * SUM_THREADS);
        for (u32 half = SUM_THREADS / 2; half > 0; half >>= 1)
            for (u32 t = 0; t < SUM_THREADS; ++t) sum_combine(slots, t, half);
        total = add(total, slots[0]);
    }
    return total;
}

static void need(const args_t& a, size_t n) {
    if (a.size() != n) throw bad_input("expected " + std::to_string(n) + " arguments");
}

template <class F>
static std::string field_op(const std::string& op, const args_t& a) {
    if (op == "mul" || op == "add" || op == "sub") {
        need(a, 2);
        const F x = parse_one<F>(a[0]), y = parse_one<F>(a[1]);
        const F r = op == "mul" ? mul(x, y) : op == "add" ? add(x, y) : sub(x, y);
        return hex_encode(&r, sizeof r);
    }
    need(a, 1);
    const F x = parse_one<F>(a[0]);
    const F r = op == "sqr" ? sqr(x) : op == "inv" ? inverse(x) : neg(x);
    return hex_encode(&r, sizeof r);
}

template <class F>
static std::string curve_op(const std::string& op, const args_t& a) {
    typedef affine<F> A;
    typedef xyz<F> P;
    if (op == "add") {
        need(a, 2);
        const A r = to_affine(add(parse_one<P>(a[0]), parse_one<P>(a[1])));
        return hex_encode(&r, sizeof r);
    }
    if (op == "add_affine") {
        need(a, 2);
        const A r = to_affine(add(parse_one<P>(a[0]), parse_one<A>(a[1])));
        return hex_encode(&r, sizeof r);
    }
    if (op == "dbl") {
        need(a, 1);
        const A r = to_affine(dbl(parse_one<P>(a[0])));
        return hex_encode(&r, sizeof r);
    }
    if (op == "sum") {
        // Both kernels, affine and projective input, must agree.
        need(a, 1);
        const std::vector<A> points = parse_array<A>(a[0]);
        const A r = to_affine(emulate_sum<F>(points));
        const A rp = to_affine(emulate_sum<F>(to_projective(points)));
        if (std::memcmp(&r, &rp, sizeof r)) throw bad_input("internal: affine and projective sums differ");
        return hex_encode(&r, sizeof r);
    }
    if (op == "bucket_sum") {
        need(a, 3);
        const std::vector<A> points = parse_array<A>(a[0]);
        const std::vector<u32> entries = parse_array<u32>(a[1]);
        const std::vector<u32> offsets = parse_array<u32>(a[2]);
        if (offsets.empty()) throw bad_input("no offsets");
        for (size_t b = 0; b + 1 < offsets.size(); ++b)
            if (offsets[b] > offsets[b + 1]) throw bad_input("offsets decrease");
        if (offsets.back() > entries.size()) throw bad_input("offsets past the entries");
        for (u32 e : entries)
            if ((e & 0x7fffffffu) >= points.size()) throw bad_input("entry names a missing point");
        std::vector<P> buckets;
        for (size_t b = 0; b + 1 < offsets.size(); ++b)
            buckets.push_back(bucket_sum(points.data(), entries.data(), offsets[b], offsets[b + 1]));
        return hex_encode(all_to_affine(buckets));
    }
    if (op == "window_segment") {
        need(a, 3);
        const std::vector<P> buckets = to_projective(parse_array<A>(a[0]));
        const u32 per_window = parse_u32(a[1]), segments = parse_u32(a[2]);
        if (per_window == 0 || segments == 0) throw bad_input("zero buckets or segments");
        if (buckets.size() % per_window) throw bad_input("buckets not a whole number of windows");
        const u64 n = buckets.size() / per_window * (u64)segments;
        if (n > (1u << 20)) throw bad_input("too many segments");
        std::vector<P> out;
        for (u32 i = 0; i < n; ++i) out.push_back(window_segment(buckets.data(), per_window, segments, i));
        return hex_encode(all_to_affine(out));
    }
    throw bad_input("unknown op");
}

static std::string scale_op(const args_t& a) {
    need(a, 3);
    const std::vector<g1_affine> points = parse_array<g1_affine>(a[0]);
    const std::vector<u8> scalars = hex_decode(a[1]);
    const u32 scalar_bytes = parse_u32(a[2]);
    if (scalars.size() != points.size() * (u64)scalar_bytes) throw bad_input("scalar bytes do not match the points");
    std::vector<g1_xyz> out;
    for (size_t i = 0; i < points.size(); ++i)
        out.push_back(scale(points[i], scalars.data() + i * scalar_bytes, scalar_bytes));
    return hex_encode(all_to_affine(out));
}

// sha256 / sm3 BLOCKS: the hash of each 64-byte block.
template <class H>
static std::string blocks_op(const args_t& a) {
    need(a, 1);
    const std::vector<u8> blocks = hex_decode(a[0]);
    if (blocks.size() % 64) throw bad_input("not whole 64-byte blocks");
    std::vector<u8> out(blocks.size() / 2);
    for (size_t i = 0; i < blocks.size() / 64; ++i)
        H::pair(&blocks[64 * i], &blocks[64 * i + 32], &out[32 * i]);
    return hex_encode(out);
}

// merkle_level / sm3_merkle_level NODES ZERO: the parents of a level, a last odd node
// paired with ZERO.
template <class H>
static std::string merkle_op(const args_t& a) {
    need(a, 2);
    const std::vector<u8> children = hex_decode(a[0]), zero = hex_decode(a[1]);
    if (children.size() % 32 || zero.size() != 32) throw bad_input("nodes must be 32 bytes");
    const u32 n = (u32)(children.size() / 32);
    std::vector<u8> out(32 * (((u64)n + 1) / 2));
    for (u32 i = 0; i < (n + 1) / 2; ++i)
        merkle_parent<H>(children.data(), n, zero.data(), i, &out[32 * i]);
    return hex_encode(out);
}

// log_leaf DATA: the RFC 9162 leaf hash of DATA.
static std::string log_leaf_op(const args_t& a) {
    need(a, 1);
    const std::vector<u8> data = hex_decode(a[0]);
    std::vector<u8> out(32);
    log_leaf_hash(data.data(), (u32)data.size(), out.data());
    return hex_encode(out);
}

// log_level NODES: the RFC 9162 parents of an even number of 32-byte nodes.
static std::string log_level_op(const args_t& a) {
    need(a, 1);
    const std::vector<u8> children = hex_decode(a[0]);
    if (children.size() % 64) throw bad_input("not whole pairs of 32-byte nodes");
    std::vector<u8> out(children.size() / 2);
    for (size_t i = 0; i < children.size() / 64; ++i)
        log_node_hash(&children[64 * i], &children[64 * i + 32], &out[32 * i]);
    return hex_encode(out);
}

static std::string run(const std::string& op, const args_t& a) {
    const size_t us = op.find('_');
    const std::string prefix = op.substr(0, us), rest = us == std::string::npos ? "" : op.substr(us + 1);
    static const char* field_ops[] = {"mul", "add", "sub", "sqr", "inv", "neg"};
    for (const char* f : field_ops) {
        if (rest != f) continue;
        if (prefix == "fp") return field_op<fp>(rest, a);
        if (prefix == "fp2") return field_op<fp2>(rest, a);
    }
    if (op == "g1_scale") return scale_op(a);
    if (prefix == "g1") return curve_op<fp>(rest, a);
    if (prefix == "g2") return curve_op<fp2>(rest, a);
    if (op == "sha256") return blocks_op<sha256_node>(a);
    if (op == "merkle_level") return merkle_op<sha256_node>(a);
    if (op == "sm3") return blocks_op<sm3_node>(a);
    if (op == "sm3_merkle_level") return merkle_op<sm3_node>(a);
    if (op == "log_leaf") return log_leaf_op(a);
    if (op == "log_level") return log_level_op(a);
    throw bad_input("unknown op");
}

int main() {
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) {
        args_t words;
        size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && std::isspace((unsigned char)line[i])) ++i;
            const size_t start = i;
            while (i < line.size() && !std::isspace((unsigned char)line[i])) ++i;
            if (i > start) words.push_back(line.substr(start, i - start));
        }
        std::string answer;
        try {
            if (words.empty()) throw bad_input("empty line");
            answer = run(words[0], args_t(words.begin() + 1, words.end()));
        } catch (const std::exception& e) {
            answer = std::string("error ") + e.what();
        }
        std::cout << answer << '\n' << std::flush;
    }
    return 0;
}
