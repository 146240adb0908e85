/*
 * ultro_config.h: build configuration of the fixed-point runtime for this policy.
 *
 * @@STAMP@@
 */
#ifndef ULTRO_CONFIG_H
#define ULTRO_CONFIG_H

/*@@CONFIG@@*/

#endif /* ULTRO_CONFIG_H */
