/* A small program for the examples: it needs a shared library besides libc
 * (zlib), so its FROM scratch image needs more than the loader and libc. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

int main(void) {
    const char *text = "hello from scratch, hello from scratch, hello from scratch";
    unsigned char packed[128];
    uLongf packed_len = sizeof packed;

    if (compress(packed, &packed_len, (const Bytef *)text, strlen(text)) != Z_OK) {
        fprintf(stderr, "hello: compress failed\n");
        return 1;
    }
    printf("hello from scratch: zlib %s packed %zu bytes into %lu\n",
           zlibVersion(), strlen(text), (unsigned long)packed_len);
    return 0;
}
