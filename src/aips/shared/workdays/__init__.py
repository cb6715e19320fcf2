"""The Kazakhstan working-day calendar (R67.13–R67.15): public holidays from the `holidays`
package corrected by the center's moved days, `add_working_days` and the other deadline
arithmetic in Asia/Almaty, the calendar page and the `{% deadline %}` template tag. Part of the
platform, below everything that has deadlines."""
