#ifndef POPSEG_VERSION_H
#define POPSEG_VERSION_H
#define POPSEG_VERSION "0.1.0"
#endif
