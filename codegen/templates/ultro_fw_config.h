/*
 * ultro_fw_config.h: build configuration of the Ultro firmware.
 *
 * @@STAMP@@
 */
#ifndef ULTRO_FW_CONFIG_H
#define ULTRO_FW_CONFIG_H

/*@@CONFIG@@*/

#endif /* ULTRO_FW_CONFIG_H */
