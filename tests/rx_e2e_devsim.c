#define RX_PROVIDER "devsim"
#define RX_SPEC	    "devsim"
#include "rx_e2e.h"
