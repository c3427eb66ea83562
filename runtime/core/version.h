/* version.h: aerun's version, shown by `aerun -v` and written into every
 * checkpoint (the aerun_version attribute), so one macro serves both. */
#ifndef AE_VERSION_H
#define AE_VERSION_H

#define AERUN_VERSION "0.1.0"

#endif
