/*
 * units.h — the unit system and physical constants.
 *
 * ferrosolv works in GROMACS/H5MD units throughout: length nm, time ps, energy kJ/mol, charge e, mass amu
 * (g/mol), temperature K, pressure bar. The constants are the 2019 SI / CODATA 2018 values GROMACS 2022 uses
 * (api/legacy/include/gromacs/math/units.h), except the Coulomb constant, noted below.
 */
#ifndef FS_UNITS_H
#define FS_UNITS_H

/* Coulomb constant f = 1/(4 pi eps0) in kJ mol^-1 nm e^-2, the value the project specifies. GROMACS 2022 derives
 * 138.93545764438196 from CODATA 2018, 2.6e-9 relative lower: Coulomb energies differ from gmx_d's by that factor. */
#define FS_ONE_4PI_EPS0 138.935458

/* Boltzmann constant in kJ mol^-1 K^-1 (R / 1000 with the 2019 SI value of R). */
#define FS_BOLTZ 0.0083144626181532

/* Avogadro's number, mol^-1 (2019 SI, exact). */
#define FS_AVOGADRO 6.02214076e23

/* Conversion of kJ mol^-1 nm^-3 to bar: 1e3 J / N_A / 1e-27 m^3 = 1e30 / N_A Pa (GROMACS 2022's c_presfac). */
#define FS_PRESFAC (1e25 / FS_AVOGADRO)

/* amu/nm^3 to g/cm^3: 1 amu = 1.66053906660e-24 g, 1 nm^3 = 1e-21 cm^3. */
#define FS_AMU_PER_NM3_TO_G_PER_CM3 1.66053906660e-3

#define FS_PI 3.14159265358979323846

#define FS_DEG2RAD (FS_PI / 180.0)

#endif
