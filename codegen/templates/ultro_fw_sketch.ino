/*
 * Ultro firmware as an Arduino sketch (ESP32 and other Arduino cores).
 *
 * @@STAMP@@
 *
 * The firmware itself is in ultro_fw.c; this only hands it the Arduino loop.
 */
extern "C" {
void ultro_fw_init(void);
void ultro_fw_poll(void);
}

void setup() {
  ultro_fw_init();
}

void loop() {
  ultro_fw_poll();
}
