/* The next definition of each wrapped symbol, as dlsym(RTLD_NEXT, name) would return it,
 * found in one walk of the loaded objects: dlsym costs ~900 instructions a call (the caller's
 * object, an error frame, then the lookup), and every process of a build resolves every
 * symbol its library wraps (issue 16: no more than 20 µs over an empty library).
 *
 * The walk reads the objects loaded after this one, in the dynamic loader's order (main
 * program, preloads, their dependencies: the order RTLD_NEXT searches), through their GNU
 * hash tables, and keeps the first definition of each name with glibc's rules for an
 * unversioned lookup: defined, a function or object, the unversioned or the one public
 * versioned symbol of the name, never a hidden version. Whatever it cannot settle (an
 * indirect function, an object without a GNU hash table, two public versions) is left
 * unresolved here and goes to dlsym. Runs in the constructor only. */
#include "preload/lib/preload.h"
#include "preload/lib/str.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

/* This library's ELF header, that is its load address (the linker defines it). */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

struct symtab {
    const ElfW(Sym) * sym;
    const char *str;
    const uint32_t *gnu;
    const ElfW(Half) * versym;
};

struct walk {
    const struct wc_next *want;
    size_t n;
    int after_self; /* this library was passed: the next objects are searched */
};

static uint32_t gnu_hash(const char *s)
{
    uint32_t h = 5381;

    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

/* d_ptr is an address once the loader relocated the dynamic section, an offset where it
 * did not (the vDSO's, read-only). */
static const void *dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) p)
{
    return (const void *)(p < info->dlpi_addr ? p + info->dlpi_addr : p);
}

static int read_symtab(const struct dl_phdr_info *info, struct symtab *t)
{
    const ElfW(Dyn) *d = NULL;

    *t = (struct symtab){0};
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            d = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    for (; d && d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_SYMTAB)
            t->sym = dyn_ptr(info, d->d_un.d_ptr);
        else if (d->d_tag == DT_STRTAB)
            t->str = dyn_ptr(info, d->d_un.d_ptr);
        else if (d->d_tag == DT_GNU_HASH)
            t->gnu = dyn_ptr(info, d->d_un.d_ptr);
        else if (d->d_tag == DT_VERSYM)
            t->versym = dyn_ptr(info, d->d_un.d_ptr);
    }
    return t->sym && t->str && t->gnu ? 0 : -1;
}

/* What one symbol of the chain is worth to an unversioned lookup (glibc's check_match and
 * do_lookup_x): TAKE it, a VERSIONED candidate (taken if it is the only one), SKIP it, or
 * DEFER the name to dlsym (an indirect function, a unique or thread-local symbol). */
enum verdict { SKIP, TAKE, VERSIONED, DEFER };

static enum verdict judge(const struct symtab *t, uint32_t i)
{
    const ElfW(Sym) *s = &t->sym[i];
    int type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info); /* same for ELF32 */

    if (s->st_shndx == SHN_UNDEF || (s->st_value == 0 && s->st_shndx != SHN_ABS))
        return SKIP;
    if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)
        return type == STT_GNU_IFUNC || type == STT_TLS || type == STT_COMMON ? DEFER : SKIP;
    if (t->versym && (t->versym[i] & 0x7fff) >= 2 && (t->versym[i] & 0x8000))
        return SKIP; /* a hidden (old) version */
    if (bind != STB_GLOBAL && bind != STB_WEAK)
        return bind == STB_LOCAL ? SKIP : DEFER;
    return t->versym && (t->versym[i] & 0x7fff) >= 2 ? VERSIONED : TAKE;
}

/* In one object: the definition of name (hash h), NULL when none, DEFERRED when dlsym must
 * decide. */
static const void *const DEFERRED = &DEFERRED;

static const void *lookup(const struct dl_phdr_info *info, const struct symtab *t, const char *name,
                          uint32_t h)
{
    const uint32_t nbuckets = t->gnu[0], symoffset = t->gnu[1], bloom_size = t->gnu[2];
    const uint32_t shift = t->gnu[3], bits = sizeof(ElfW(Addr)) * 8;
    const ElfW(Addr) *bloom = (const ElfW(Addr) *)&t->gnu[4];
    const uint32_t *buckets = (const uint32_t *)&bloom[bloom_size];
    const uint32_t *chain = &buckets[nbuckets]; /* chain[i - symoffset] goes with symbol i */
    const ElfW(Sym) *versioned = NULL;
    int nversioned = 0;
    ElfW(Addr) word;
    uint32_t i;

    if (nbuckets == 0 || bloom_size == 0)
        return NULL;
    word = bloom[(h / bits) % bloom_size];
    if (!((word >> (h % bits)) & (word >> ((h >> shift) % bits)) & 1))
        return NULL;
    for (i = buckets[h % nbuckets]; i >= symoffset; i++) {
        if ((chain[i - symoffset] | 1) == (h | 1) && wc_streq(name, t->str + t->sym[i].st_name)) {
            switch (judge(t, i)) {
            case TAKE:
                return (const void *)(info->dlpi_addr + t->sym[i].st_value);
            case VERSIONED:
                versioned = &t->sym[i];
                nversioned++;
                break;
            case DEFER:
                return DEFERRED;
            case SKIP:
                break;
            }
        }
        if (chain[i - symoffset] & 1)
            break;
    }
    if (nversioned == 1)
        return (const void *)(info->dlpi_addr + versioned->st_value);
    return nversioned ? DEFERRED : NULL;
}

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct walk *w = arg;
    struct symtab t;
    size_t left = 0;

    (void)size;
    if (!w->after_self) {
        w->after_self = info->dlpi_addr == (ElfW(Addr)) & __ehdr_start;
        return 0;
    }
    if (read_symtab(info, &t) < 0) {
        /* Its symbols cannot be read here: dlsym decides for every name still open. */
        for (size_t i = 0; i < w->n; i++)
            if (!*w->want[i].slot)
                *w->want[i].slot = (void *)DEFERRED;
        return 1;
    }
    for (size_t i = 0; i < w->n; i++) {
        if (*w->want[i].slot)
            continue;
        *w->want[i].slot = (void *)lookup(info, &t, w->want[i].name, gnu_hash(w->want[i].name));
        left += !*w->want[i].slot;
    }
    return left == 0;
}

void wc_find_next(const struct wc_next *want, size_t n)
{
    struct walk w = {want, n, 0};

    for (size_t i = 0; i < n; i++)
        *want[i].slot = NULL;
    dl_iterate_phdr(visit, &w);
    for (size_t i = 0; i < n; i++)
        if (!*want[i].slot || *want[i].slot == DEFERRED)
            *want[i].slot = dlsym(RTLD_NEXT, want[i].name);
}
