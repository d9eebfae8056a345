// mlcalyx-sim shim: a C ABI over one Verilator model.
//
// The same file is compiled with every design (the Rust crate embeds it with include_str!).
// Verilator is run with `--prefix Vdesign`, so the model class is always `Vdesign`, whatever the
// top module is called. The top module must have 1-bit ports clk, reset, go and done.
// Only the `sim_*` functions are exported (linker version script), so several designs, each
// with its own copy of the Verilator runtime, can be loaded into one process.
//
// Return codes of the functions that evaluate the model:
//   >= 0  success (sim_run: rising edges from go to done)
//   -1    timeout (sim_run only)
//   -2    the design executed $finish, $stop, $fatal or $error (fatalOnError is off, so
//         Verilator reports this here instead of aborting the host process); the instance
//         refuses to evaluate again after that (a second $finish would call exit()).
//   -3    C++ exception or invalid handle
// Memory functions return 0 on success and:
//   -1 scope not found, -2 variable not found in scope, -3 unsupported variable type
//   (wider than 64 bits), -4 buffer size mismatch, -5 exception / invalid handle.

#include "Vdesign.h"
#include "verilated.h"
#include "verilated_syms.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace {

struct Sim {
    VerilatedContext* ctx = nullptr;
    Vdesign* top = nullptr;
    bool stopped = false;
};

// Element width in bits. Newer Verilator 5.0xx has VerilatedVarProps::entBits() (and there
// elements(0) is 1 for an array of packed words); 5.006 has no entBits() and records the packed
// width as dimension 0. Overload resolution picks the first version when entBits() exists
// (0 is an int, so `int` beats `long`), and SFINAE removes it when it does not.
template <typename V>
auto elemBits(const V* var, int) -> decltype(var->entBits(), uint32_t()) {
    return static_cast<uint32_t>(var->entBits());
}
template <typename V>
uint32_t elemBits(const V* var, long) {
    return static_cast<uint32_t>(var->elements(0));
}

Sim* sim(void* handle) { return static_cast<Sim*>(handle); }

// Sets the thread's context (scopes, $finish and errors go through it) and checks the handle.
bool enter(Sim* s) {
    if (!s || !s->ctx || !s->top) return false;
    Verilated::threadContextp(s->ctx);
    return true;
}

bool finished(Sim* s) {
    if (s->ctx->gotFinish()) s->stopped = true;
    return s->stopped;
}

// The memory variable `var` in scope `scope`, or a negative code.
int findVar(Sim* s, const char* scope, const char* var, const VerilatedVar** out) {
    const VerilatedScope* sc = s->ctx->scopeFind(scope);
    if (!sc) return -1;
    const VerilatedVar* v = sc->varFind(var);
    if (!v || !v->datap()) return -2;
    switch (v->vltype()) {
    case VLVT_UINT8:
    case VLVT_UINT16:
    case VLVT_UINT32:
    case VLVT_UINT64: break;
    default: return -3;
    }
    *out = v;
    return 0;
}

}  // namespace

extern "C" {

// Verilator version the shim was compiled against, e.g. 5006000.
uint64_t sim_verilator_version() {
#ifdef VERILATOR_VERSION_INTEGER
    return VERILATOR_VERSION_INTEGER;
#else
    return 0;
#endif
}

// Creates a context and a model, runs the initial blocks (first eval with clk, reset, go low).
// argv must hold at least a program name (5.049 aborts on $value$plusargs otherwise).
void* sim_new(int argc, const char** argv) {
    Sim* s = nullptr;
    try {
        s = new Sim;
        s->ctx = new VerilatedContext;
        Verilated::threadContextp(s->ctx);
        s->ctx->fatalOnError(false);
        s->ctx->commandArgs(argc, argv);
        s->top = new Vdesign{s->ctx, "TOP"};
        s->top->clk = 0;
        s->top->reset = 0;
        s->top->go = 0;
        s->top->eval();
        finished(s);
        return s;
    } catch (...) {
        if (s) {
            delete s->top;
            delete s->ctx;
            delete s;
        }
        return nullptr;
    }
}

void sim_free(void* handle) {
    Sim* s = sim(handle);
    if (!s) return;
    try {
        if (s->ctx) Verilated::threadContextp(s->ctx);
        // final() is deliberately not called: final blocks of simulation-mode designs write files.
        delete s->top;
        delete s->ctx;
    } catch (...) {}
    delete s;
}

// 1 when the design has executed $finish/$stop/$fatal/$error, 2 if that was an error, else 0.
int sim_status(void* handle) {
    Sim* s = sim(handle);
    if (!enter(s)) return -3;
    if (!finished(s)) return 0;
    return s->ctx->gotError() ? 2 : 1;
}

// Holds reset high for `cycles` rising edges (at least one), then low.
int sim_reset(void* handle, uint32_t cycles) {
    Sim* s = sim(handle);
    if (!enter(s)) return -3;
    try {
        if (finished(s)) return -2;
        Vdesign* top = s->top;
        if (cycles == 0) cycles = 1;
        top->go = 0;
        top->reset = 1;
        for (uint32_t i = 0; i < cycles; ++i) {
            top->clk = 1;
            top->eval();
            s->ctx->timeInc(1);
            if (finished(s)) return -2;
            top->clk = 0;
            top->eval();
            s->ctx->timeInc(1);
            if (finished(s)) return -2;
        }
        top->reset = 0;
        top->eval();
        if (finished(s)) return -2;
        return 0;
    } catch (...) { return -3; }
}

// Raises go and clocks until done is seen after a rising edge; drops go.
int64_t sim_run(void* handle, uint64_t max_cycles, uint64_t* cycles_out) {
    Sim* s = sim(handle);
    if (cycles_out) *cycles_out = 0;
    if (!enter(s)) return -3;
    try {
        if (finished(s)) return -2;
        Vdesign* top = s->top;
        VerilatedContext* ctx = s->ctx;
        top->reset = 0;
        top->go = 1;
        for (uint64_t n = 1; n <= max_cycles; ++n) {
            top->clk = 1;
            top->eval();
            ctx->timeInc(1);
            if (cycles_out) *cycles_out = n;
            if (VL_UNLIKELY(ctx->gotFinish())) {
                s->stopped = true;
                return -2;
            }
            const bool done = top->done;
            if (done) top->go = 0;
            top->clk = 0;
            top->eval();
            ctx->timeInc(1);
            if (VL_UNLIKELY(ctx->gotFinish())) {
                s->stopped = true;
                return -2;
            }
            if (done) return static_cast<int64_t>(n);
        }
        top->go = 0;
        top->eval();
        if (finished(s)) return -2;
        return -1;
    } catch (...) { return -3; }
}

// `cycles` rising edges of clk (clk=1; eval; clk=0; eval) with every other input unchanged:
// for driving a design through its ports (sim/src/ports.rs).
int sim_step(void* handle, uint64_t cycles) {
    Sim* s = sim(handle);
    if (!enter(s)) return -3;
    try {
        if (finished(s)) return -2;
        for (uint64_t i = 0; i < cycles; ++i) {
            s->top->clk = 1;
            s->top->eval();
            s->ctx->timeInc(1);
            if (finished(s)) return -2;
            s->top->clk = 0;
            s->top->eval();
            s->ctx->timeInc(1);
            if (finished(s)) return -2;
        }
        return 0;
    } catch (...) { return -3; }
}

// Width of one element in bits, number of elements (all unpacked dimensions, row-major) and
// bytes per element (1, 2, 4 or 8: CData, SData, IData, QData) of variable `var` in `scope`.
int sim_mem_info(void* handle, const char* scope, const char* var, uint32_t* width_bits,
                 uint64_t* depth, uint32_t* bytes_per_word) {
    Sim* s = sim(handle);
    if (!enter(s) || !scope || !var) return -5;
    try {
        const VerilatedVar* v = nullptr;
        const int rc = findVar(s, scope, var, &v);
        if (rc != 0) return rc;
        const uint32_t ent = v->entSize();
        if (ent == 0) return -3;
        *width_bits = elemBits(v, 0);
        *depth = static_cast<uint64_t>(v->totalSize() / ent);
        *bytes_per_word = ent;
        return 0;
    } catch (...) { return -5; }
}

// Copies the whole memory to `buf` (len must equal depth * bytes_per_word), host byte order.
int sim_mem_read(void* handle, const char* scope, const char* var, void* buf, uint64_t len) {
    Sim* s = sim(handle);
    if (!enter(s) || !scope || !var || !buf) return -5;
    try {
        const VerilatedVar* v = nullptr;
        const int rc = findVar(s, scope, var, &v);
        if (rc != 0) return rc;
        if (len != static_cast<uint64_t>(v->totalSize())) return -4;
        std::memcpy(buf, v->datap(), v->totalSize());
        return 0;
    } catch (...) { return -5; }
}

// Copies `buf` over the whole memory (len must equal depth * bytes_per_word), host byte order.
// The caller masks each word to the element width (Verilator relies on clean upper bits).
// The model is evaluated once afterwards so combinational reads see the new contents.
int sim_mem_write(void* handle, const char* scope, const char* var, const void* buf,
                  uint64_t len) {
    Sim* s = sim(handle);
    if (!enter(s) || !scope || !var || !buf) return -5;
    try {
        const VerilatedVar* v = nullptr;
        const int rc = findVar(s, scope, var, &v);
        if (rc != 0) return rc;
        if (len != static_cast<uint64_t>(v->totalSize())) return -4;
        std::memcpy(v->datap(), buf, v->totalSize());
        if (!finished(s)) {
            s->top->eval();
            finished(s);
        }
        return 0;
    } catch (...) { return -5; }
}

// Writes the names of all scopes that hold a variable `var`, one per line, into buf (at most
// len bytes, NUL-terminated when len > 0); returns the length needed without the NUL.
int64_t sim_scopes_with_var(void* handle, const char* var, char* buf, uint64_t len) {
    Sim* s = sim(handle);
    if (!enter(s) || !var) return -5;
    try {
        std::string names;
        const VerilatedScopeNameMap* scopes = s->ctx->scopeNameMap();
        if (scopes) {
            for (const auto& entry : *scopes) {
                const VerilatedScope* sc = entry.second;
                if (sc && sc->varFind(var)) {
                    names += entry.first;
                    names += '\n';
                }
            }
        }
        if (buf && len > 0) {
            const uint64_t n = names.size() < len - 1 ? names.size() : len - 1;
            std::memcpy(buf, names.data(), n);
            buf[n] = '\0';
        }
        return static_cast<int64_t>(names.size());
    } catch (...) { return -5; }
}

}  // extern "C"
