// Test helper: prints its argv and environment as JSON ({"argv":[...],"env":[...]}), so a
// test can check that values arrive byte for byte. Bytes from 0x80 up are copied as they are
// (the tests pass valid UTF-8).
#include <cstdio>

extern char** environ;

static void print_string(const char* s) {
  std::putchar('"');
  for (const unsigned char* p = reinterpret_cast<const unsigned char*>(s); *p; ++p) {
    if (*p == '"' || *p == '\\') std::printf("\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f) std::printf("\\u%04x", *p);
    else std::putchar(*p);
  }
  std::putchar('"');
}

int main(int argc, char** argv) {
  std::fputs("{\"argv\":[", stdout);
  for (int i = 0; i < argc; ++i) {
    if (i) std::putchar(',');
    print_string(argv[i]);
  }
  std::fputs("],\"env\":[", stdout);
  for (char** e = environ; *e; ++e) {
    if (e != environ) std::putchar(',');
    print_string(*e);
  }
  std::fputs("]}\n", stdout);
  return 0;
}
