// Placeholder until the trainer lands (replaced in this same session).
#include <cstdio>
int main() { std::puts("gg_train: trainer not built yet"); return 1; }
