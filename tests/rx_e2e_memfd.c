#define RX_PROVIDER "memfd"
#define RX_SPEC	    "memfd"
#include "rx_e2e.h"
