#ifndef TAPIO_VERSION_H
#define TAPIO_VERSION_H
#define TAPIO_VERSION "0.1.0"
#endif
