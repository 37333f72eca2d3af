/* elang: route between a Swift and a Super language model by energy. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "elang.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"demo", cmd_demo, "route the demo pairs (models/) on example inputs; --data DIR evaluates them"},
    {"classify", cmd_classify, "run a sequence classifier over JSONL or text lines"},
    {"generate", cmd_generate, "run a generator (T5, Marian, GPT-2, Llama, Qwen2): greedy or beam search, per-token energies"},
    {"route", cmd_route, "E-LANG joint inference: Swift on every input, Super where Swift's energy is high"},
    {"calibrate", cmd_calibrate, "choose the routing threshold on labelled data for an objective"},
    {"eval", cmd_eval, "evaluate routing on labelled data: report.json, report.md, curve.svg"},
    {"serve", cmd_serve, "serve the router (or one model) over HTTP: its own JSON, KServe v2 and OpenAI completions"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: elang COMMAND [flags]   (elang COMMAND --help for its flags)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("elang %s\n", ELANG_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "elang: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
