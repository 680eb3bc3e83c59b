#define RX_PROVIDER "host"
#define RX_SPEC	    "host"
#include "rx_e2e.h"
