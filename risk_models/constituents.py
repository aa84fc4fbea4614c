"""Tidal constituents: Doodson numbers, speeds, nodal corrections and astronomical arguments.

The table is Foreman's (1977, revised 2004; "Manual for tidal heights analysis and prediction",
Pacific Marine Science Report 77-10, Institute of Ocean Sciences) as distributed with t_tide
(Pawlowicz et al. 2002, Computers & Geosciences 28) and UTide (Codiga 2011, URI/GSO Tech. Rep.
2011-01): 45 astronomical constituents with their satellites, and 100 compound (shallow-water)
constituents defined from them. Nodal corrections follow Foreman: the complex factor of a
constituent is ``1 + sum(r * exp(2 pi i (dp*p + dN*N' + dp'*p' + phase)))`` over its satellites,
where some ratios ``r`` scale with latitude; a compound constituent takes the product of its
parents' factors (``f`` to ``|coefficient|``, ``u`` times the coefficient). The mean longitudes
(s, h, p, N', p') are the polynomials of the Explanatory Supplement to the Astronomical Ephemeris
(1961), pp. 98 and 107. Times are UTC seconds since the Unix epoch; UT1 - UTC (< 1 s) is ignored.

Nothing is computed at import: the tables are parsed once, on first use (``functools.cache``).
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from risk_models.types import FloatArray

ComplexArray = npt.NDArray[np.complex128]

#: Days from 1899-12-31 12:00 UTC (the epoch of the polynomials) to 1970-01-01 00:00 UTC.
_EPOCH_OFFSET_DAYS = 25567.5
_SECONDS_PER_DAY = 86400.0
#: Polynomial coefficients (degrees; powers of d and of D = d / 10000, d in days from the epoch)
#: of s, h, p, N' and p' (Explanatory Supplement 1961, pp. 98 and 107, as in t_tide's t_astron).
_MEAN_LONGITUDE_DEG = (
    (270.434164, 13.1763965268, -0.0000850, 0.000000039),
    (279.696678, 0.9856473354, 0.00002267, 0.000000000),
    (334.329556, 0.1114040803, -0.0007739, -0.00000026),
    (-259.183275, 0.0529539222, -0.0001557, -0.000000050),
    (281.220844, 0.0000470684, 0.0000339, 0.000000070),
)
#: Foreman's latitude factors for satellites of the diurnal (code 1) and semidiurnal (code 2)
#: species; the latitude is kept at least 5 degrees away from the equator, as in t_tide.
_LAT_FACTOR_DIURNAL = 0.36309
_LAT_FACTOR_SEMIDIURNAL = 2.59808
_MIN_ABS_LAT_DEG = 5.0
#: Nodal factors change over months (the fastest satellite term is the 8.85-year perigee), so
#: they are evaluated on a grid with this step and interpolated linearly: error < 1e-7.
NODAL_GRID_STEP_S = 86400.0

#: name, Doodson numbers (tau, s, h, p, N', p'), phase offset (cycles), Rayleigh comparison.
_ASTRONOMICAL: tuple[tuple[str, tuple[int, int, int, int, int, int], float, str], ...] = (
    ("SA", (0, 0, 1, 0, 0, -1), 0.0, "SSA"),
    ("SSA", (0, 0, 2, 0, 0, 0), 0.0, "Z0"),
    ("MSM", (0, 1, -2, 1, 0, 0), 0.0, "MM"),
    ("MM", (0, 1, 0, -1, 0, 0), 0.0, "MSF"),
    ("MSF", (0, 2, -2, 0, 0, 0), 0.0, "Z0"),
    ("MF", (0, 2, 0, 0, 0, 0), 0.0, "MSF"),
    ("ALP1", (1, -4, 2, 1, 0, 0), -0.25, "2Q1"),
    ("2Q1", (1, -3, 0, 2, 0, 0), -0.25, "Q1"),
    ("SIG1", (1, -3, 2, 0, 0, 0), -0.25, "2Q1"),
    ("Q1", (1, -2, 0, 1, 0, 0), -0.25, "O1"),
    ("RHO1", (1, -2, 2, -1, 0, 0), -0.25, "Q1"),
    ("O1", (1, -1, 0, 0, 0, 0), -0.25, "K1"),
    ("TAU1", (1, -1, 2, 0, 0, 0), -0.75, "O1"),
    ("BET1", (1, 0, -2, 1, 0, 0), -0.75, "NO1"),
    ("NO1", (1, 0, 0, 1, 0, 0), -0.75, "K1"),
    ("CHI1", (1, 0, 2, -1, 0, 0), -0.75, "NO1"),
    ("PI1", (1, 1, -3, 0, 0, 1), -0.25, "P1"),
    ("P1", (1, 1, -2, 0, 0, 0), -0.25, "K1"),
    ("S1", (1, 1, -1, 0, 0, 1), -0.75, "K1"),
    ("K1", (1, 1, 0, 0, 0, 0), -0.75, "Z0"),
    ("PSI1", (1, 1, 1, 0, 0, -1), -0.75, "K1"),
    ("PHI1", (1, 1, 2, 0, 0, 0), -0.75, "K1"),
    ("THE1", (1, 2, -2, 1, 0, 0), -0.75, "J1"),
    ("J1", (1, 2, 0, -1, 0, 0), -0.75, "K1"),
    ("OO1", (1, 3, 0, 0, 0, 0), -0.75, "J1"),
    ("UPS1", (1, 4, 0, -1, 0, 0), -0.75, "OO1"),
    ("OQ2", (2, -3, 0, 3, 0, 0), 0.0, "EPS2"),
    ("EPS2", (2, -3, 2, 1, 0, 0), 0.0, "2N2"),
    ("2N2", (2, -2, 0, 2, 0, 0), 0.0, "MU2"),
    ("MU2", (2, -2, 2, 0, 0, 0), 0.0, "N2"),
    ("N2", (2, -1, 0, 1, 0, 0), 0.0, "M2"),
    ("NU2", (2, -1, 2, -1, 0, 0), 0.0, "N2"),
    ("GAM2", (2, 0, -2, 2, 0, 0), -0.5, "H1"),
    ("H1", (2, 0, -1, 0, 0, 1), -0.5, "M2"),
    ("M2", (2, 0, 0, 0, 0, 0), 0.0, "Z0"),
    ("H2", (2, 0, 1, 0, 0, -1), 0.0, "M2"),
    ("LDA2", (2, 1, -2, 1, 0, 0), -0.5, "L2"),
    ("L2", (2, 1, 0, -1, 0, 0), -0.5, "S2"),
    ("T2", (2, 2, -3, 0, 0, 1), 0.0, "S2"),
    ("S2", (2, 2, -2, 0, 0, 0), 0.0, "M2"),
    ("R2", (2, 2, -1, 0, 0, -1), -0.5, "S2"),
    ("K2", (2, 2, 0, 0, 0, 0), 0.0, "S2"),
    ("ETA2", (2, 3, 0, -1, 0, 0), 0.0, "K2"),
    ("M3", (3, 0, 0, 0, 0, 0), -0.5, "M2"),
)
#: "name comparison parent*coefficient ...", one compound (shallow-water) constituent a line;
#: "-" where the constituent is never chosen automatically. The rows after ST35 are not in
#: Foreman's list: they are compounds of the Rijkswaterstaat component sets (hatyan names,
#: Deltares/hatyan ``data_schureman_shallowrelations.csv``), defined here from the same parents.
_SHALLOW_TABLE = """
2PO1  -     P1*2 O1*-1
SO1   OO1   S2*1 O1*-1
ST36  -     M2*2 N2*1 S2*-2
2NS2  -     N2*2 S2*-1
ST37  -     M2*3 S2*-2
ST1   -     N2*2 K2*1 S2*-2
ST2   -     M2*1 N2*1 K2*1 S2*-2
ST3   -     M2*2 S2*1 K2*-2
O2    -     O1*2
SNK2  -     S2*1 N2*1 K2*-1
ST4   -     K2*2 N2*1 S2*-2
OP2   -     O1*1 P1*1
MKS2  M2    M2*1 K2*1 S2*-1
ST5   -     M2*1 K2*2 S2*-2
ST6   -     S2*2 N2*1 M2*-1 K2*-1
2SK2  -     S2*2 K2*-1
MSN2  ETA2  M2*1 S2*1 N2*-1
ST7   -     K2*2 M2*1 S2*-1 N2*-1
2SM2  -     S2*2 M2*-1
ST38  -     M2*2 S2*1 N2*-2
SKM2  -     S2*1 K2*1 M2*-1
2SN2  -     S2*2 N2*-1
NO3   -     N2*1 O1*1
MO3   M3    M2*1 O1*1
NK3   -     N2*1 K1*1
SO3   MK3   S2*1 O1*1
MK3   M3    M2*1 K1*1
SP3   -     S2*1 P1*1
SK3   MK3   S2*1 K1*1
ST8   -     M2*2 N2*1 S2*-1
N4    -     N2*2
3MS4  -     M2*3 S2*-1
ST39  -     M2*1 S2*1 N2*1 K2*-1
MN4   M4    M2*1 N2*1
ST9   -     M2*1 N2*1 K2*1 S2*-1
ST40  -     M2*2 S2*1 K2*-1
M4    M3    M2*2
ST10  -     M2*2 K2*1 S2*-1
SN4   M4    S2*1 N2*1
KN4   -     K2*1 N2*1
MS4   M4    M2*1 S2*1
MK4   MS4   M2*1 K2*1
SL4   -     S2*1 L2*1
S4    MS4   S2*2
SK4   S4    S2*1 K2*1
MNO5  -     M2*1 N2*1 O1*1
2MO5  -     M2*2 O1*1
3MP5  -     M2*3 P1*-1
MNK5  -     M2*1 N2*1 K1*1
2MP5  -     M2*2 P1*1
2MK5  M4    M2*2 K1*1
MSK5  -     M2*1 S2*1 K1*1
3KM5  -     K2*1 K1*1 M2*1
2SK5  2MK5  S2*2 K1*1
ST11  -     N2*3 K2*1 S2*-1
2NM6  -     N2*2 M2*1
ST12  -     N2*2 M2*1 K2*1 S2*-1
2MN6  M6    M2*2 N2*1
ST13  -     M2*2 N2*1 K2*1 S2*-1
ST41  -     M2*3 S2*1 K2*-1
M6    2MK5  M2*3
MSN6  -     M2*1 S2*1 N2*1
MKN6  -     M2*1 K2*1 N2*1
ST42  -     M2*2 S2*2 K2*-1
2MS6  M6    M2*2 S2*1
2MK6  2MS6  M2*2 K2*1
NSK6  -     N2*1 S2*1 K2*1
2SM6  2MS6  S2*2 M2*1
MSK6  2SM6  M2*1 S2*1 K2*1
S6    -     S2*3
ST14  -     M2*2 N2*1 O1*1
ST15  -     N2*2 M2*1 K1*1
M7    -     M2*3.5
ST16  -     M2*2 S2*1 O1*1
3MK7  M6    M2*3 K1*1
ST17  -     M2*1 S2*1 K2*1 O1*1
ST18  -     M2*2 N2*2
3MN8  -     M2*3 N2*1
ST19  -     M2*3 N2*1 K2*1 S2*-1
M8    3MK7  M2*4
ST20  -     M2*2 S2*1 N2*1
ST21  -     M2*2 N2*1 K2*1
3MS8  -     M2*3 S2*1
3MK8  -     M2*3 K2*1
ST22  -     M2*1 S2*1 N2*1 K2*1
ST23  -     M2*2 S2*2
ST24  -     M2*2 S2*1 K2*1
ST25  -     M2*2 N2*2 K1*1
ST26  -     M2*3 N2*1 K1*1
4MK9  -     M2*4 K1*1
ST27  -     M2*3 S2*1 K1*1
ST28  -     M2*4 N2*1
M10   -     M2*5
ST29  -     M2*3 N2*1 S2*1
ST30  -     M2*4 S2*1
ST31  -     M2*2 N2*1 S2*1 K2*1
ST32  -     M2*3 S2*2
ST33  -     M2*4 S2*1 K1*1
M12   -     M2*6
ST34  -     M2*5 S2*1
ST35  -     M2*3 N2*1 K2*1 S2*1
3MKS2 -     M2*3 K2*-1 S2*-1
2ML2S2 -    M2*2 L2*1 S2*-2
2MP3  -     M2*2 P1*-1
4MS4  -     M2*4 S2*-2
2MLS4 -     M2*2 L2*1 S2*-1
3MN4  -     M2*3 N2*-1
3MNS6 -     M2*3 N2*1 S2*-1
4MS6  -     M2*4 S2*-1
2MNU6 -     M2*2 NU2*1
MKNU6 -     M2*1 K2*1 NU2*1
3MSN6 -     M2*3 S2*1 N2*-1
2(MS)N10 -  M2*2 S2*2 N2*1
4MSN12 -    M2*4 S2*1 N2*1
4M2S12 -    M2*4 S2*2
2MN2  -     M2*2 N2*-1
MSK2  -     M2*1 S2*1 K2*-1
3MS2  -     M2*3 S2*-2
MNS2  -     M2*1 N2*1 S2*-1
2MSN4 -     M2*2 S2*1 N2*-1
2MNS4 -     M2*2 N2*1 S2*-1
2MSK4 -     M2*2 S2*1 K2*-1
3MSK6 -     M2*3 S2*1 K2*-1
2(MN)8 -    M2*2 N2*2
2MSN8 -     M2*2 S2*1 N2*1
2MNK8 -     M2*2 N2*1 K2*1
2(MS)8 -    M2*2 S2*2
2MSK8 -     M2*2 S2*1 K2*1
4MN10 -     M2*4 N2*1
3MSN10 -    M2*3 S2*1 N2*1
4MS10 -     M2*4 S2*1
3M2S10 -    M2*3 S2*2
5MS12 -     M2*5 S2*1
"""
#: "constituent dp dN' dp' phase(cycles) amplitude-ratio latitude-code", four satellites a line.
_SATELLITE_TABLE = """
ALP1 -1 0 0 0.75 0.036 1 | ALP1 0 -1 0 0 0.1906 0 | 2Q1 -2 -2 0 0.5 0.0063 0
2Q1 -1 -1 0 0.75 0.0241 1 | 2Q1 -1 0 0 0.75 0.0607 1 | 2Q1 0 -2 0 0.5 0.0063 0
2Q1 0 -1 0 0 0.1885 0 | SIG1 -1 0 0 0.75 0.0095 1 | SIG1 0 -2 0 0.5 0.0061 0
SIG1 0 -1 0 0 0.1884 0 | SIG1 2 0 0 0.5 0.0087 0 | Q1 -2 -3 0 0.5 0.0007 0
Q1 -2 -2 0 0.5 0.0039 0 | Q1 -1 -2 0 0.75 0.001 1 | Q1 -1 -1 0 0.75 0.0115 1
Q1 -1 0 0 0.75 0.0292 1 | Q1 0 -2 0 0.5 0.0057 0 | Q1 -1 0 1 0 0.0008 0
Q1 0 -1 0 0 0.1884 0 | Q1 1 0 0 0.75 0.0018 1 | Q1 2 0 0 0.5 0.0028 0
RHO1 0 -2 0 0.5 0.0058 0 | RHO1 0 -1 0 0 0.1882 0 | RHO1 1 0 0 0.75 0.0131 1
RHO1 2 0 0 0.5 0.0576 0 | RHO1 2 1 0 0 0.0175 0 | O1 -1 0 0 0.25 0.0003 1
O1 0 -2 0 0.5 0.0058 0 | O1 0 -1 0 0 0.1885 0 | O1 1 -1 0 0.25 0.0004 1
O1 1 0 0 0.75 0.0029 1 | O1 1 1 0 0.25 0.0004 1 | O1 2 0 0 0.5 0.0064 0
O1 2 1 0 0.5 0.001 0 | TAU1 -2 0 0 0 0.0446 0 | TAU1 -1 0 0 0.25 0.0426 1
TAU1 0 -1 0 0.5 0.0284 0 | TAU1 0 1 0 0.5 0.217 0 | TAU1 0 2 0 0.5 0.0142 0
BET1 0 -1 0 0 0.2266 0 | NO1 -2 -2 0 0.5 0.0057 0 | NO1 -2 -1 0 0 0.0665 0
NO1 -2 0 0 0 0.3596 0 | NO1 -1 -1 0 0.75 0.0331 1 | NO1 -1 0 0 0.25 0.2227 1
NO1 -1 1 0 0.75 0.029 1 | NO1 0 -1 0 0.5 0.029 0 | NO1 0 1 0 0 0.2004 0
NO1 0 2 0 0.5 0.0054 0 | CHI1 0 -1 0 0.5 0.0282 0 | CHI1 0 1 0 0 0.2187 0
PI1 0 -1 0 0.5 0.0078 0 | P1 0 -2 0 0 0.0008 0 | P1 0 -1 0 0.5 0.0112 0
P1 0 0 2 0.5 0.0004 0 | P1 1 0 0 0.75 0.0004 1 | P1 2 0 0 0.5 0.0015 0
P1 2 1 0 0.5 0.0003 0 | S1 0 0 -2 0 0.3534 0 | S1 0 1 0 0.5 0.0264 0
K1 -2 -1 0 0 0.0002 0 | K1 -1 -1 0 0.75 0.0001 1 | K1 -1 0 0 0.25 0.0007 1
K1 -1 1 0 0.75 0.0001 1 | K1 0 -2 0 0 0.0001 0 | K1 0 -1 0 0.5 0.0198 0
K1 0 1 0 0 0.1356 0 | K1 0 2 0 0.5 0.0029 0 | K1 1 0 0 0.25 0.0002 1
K1 1 1 0 0.25 0.0001 1 | PSI1 0 1 0 0 0.019 0 | PHI1 -2 0 0 0 0.0344 0
PHI1 -2 1 0 0 0.0106 0 | PHI1 0 0 -2 0 0.0132 0 | PHI1 0 1 0 0.5 0.0384 0
PHI1 0 2 0 0.5 0.0185 0 | THE1 -2 -1 0 0 0.03 0 | THE1 -1 0 0 0.25 0.0141 1
THE1 0 -1 0 0.5 0.0317 0 | THE1 0 1 0 0 0.1993 0 | J1 0 -1 0 0.5 0.0294 0
J1 0 1 0 0 0.198 0 | J1 0 2 0 0.5 0.0047 0 | J1 1 -1 0 0.75 0.0027 1
J1 1 0 0 0.25 0.0816 1 | J1 1 1 0 0.25 0.0331 1 | J1 1 2 0 0.25 0.0027 1
J1 2 0 0 0.5 0.0152 0 | J1 2 1 0 0.5 0.0098 0 | J1 2 2 0 0.5 0.0057 0
OO1 -2 -1 0 0.5 0.0037 0 | OO1 -2 0 0 0 0.1496 0 | OO1 -2 1 0 0 0.0296 0
OO1 -1 0 0 0.25 0.024 1 | OO1 -1 1 0 0.25 0.0099 1 | OO1 0 1 0 0 0.6398 0
OO1 0 2 0 0 0.1342 0 | OO1 0 3 0 0 0.0086 0 | UPS1 -2 0 0 0 0.0611 0
UPS1 0 1 0 0 0.6399 0 | UPS1 0 2 0 0 0.1318 0 | UPS1 1 0 0 0.25 0.0289 1
UPS1 1 1 0 0.25 0.0257 1 | OQ2 -1 0 0 0.25 0.1042 2 | OQ2 0 -1 0 0.5 0.0386 0
EPS2 -1 -1 0 0.25 0.0075 2 | EPS2 -1 0 0 0.25 0.0402 2 | EPS2 0 -1 0 0.5 0.0373 0
2N2 -2 -2 0 0.5 0.0061 0 | 2N2 -1 -1 0 0.25 0.0117 2 | 2N2 -1 0 0 0.25 0.0678 2
2N2 0 -1 0 0.5 0.0374 0 | MU2 -1 -1 0 0.25 0.0018 2 | MU2 -1 0 0 0.25 0.0104 2
MU2 0 -1 0 0.5 0.0375 0 | N2 -2 -2 0 0.5 0.0039 0 | N2 -1 0 1 0 0.0008 0
N2 0 -2 0 0 0.0005 0 | N2 0 -1 0 0.5 0.0373 0 | NU2 0 -1 0 0.5 0.0373 0
NU2 1 0 0 0.75 0.0042 2 | NU2 2 0 0 0 0.0042 0 | NU2 2 1 0 0.5 0.0036 0
GAM2 -2 -2 0 0 0.1429 0 | GAM2 -1 0 0 0.25 0.0293 2 | GAM2 0 -1 0 0.5 0.033 0
H1 0 -1 0 0.5 0.0224 0 | H1 1 0 -1 0.5 0.0447 0 | M2 -1 -1 0 0.75 0.0001 2
M2 -1 0 0 0.75 0.0004 2 | M2 0 -2 0 0 0.0005 0 | M2 0 -1 0 0.5 0.0373 0
M2 1 -1 0 0.25 0.0001 2 | M2 1 0 0 0.75 0.0009 2 | M2 1 1 0 0.75 0.0002 2
M2 2 0 0 0 0.0006 0 | M2 2 1 0 0 0.0002 0 | H2 0 -1 0 0.5 0.0217 0
LDA2 0 -1 0 0.5 0.0448 0 | L2 0 -1 0 0.5 0.0366 0 | L2 2 -1 0 0 0.0047 0
L2 2 0 0 0.5 0.2505 0 | L2 2 1 0 0.5 0.1102 0 | L2 2 2 0 0.5 0.0156 0
S2 0 -1 0 0 0.0022 0 | S2 1 0 0 0.75 0.0001 2 | S2 2 0 0 0 0.0001 0
R2 0 0 2 0.5 0.2535 0 | R2 0 1 2 0 0.0141 0 | K2 -1 0 0 0.75 0.0024 2
K2 -1 1 0 0.75 0.0004 2 | K2 0 -1 0 0.5 0.0128 0 | K2 0 1 0 0 0.298 0
K2 0 2 0 0 0.0324 0 | ETA2 0 -1 0 0.5 0.0187 0 | ETA2 0 1 0 0 0.4355 0
ETA2 0 2 0 0 0.0467 0 | ETA2 1 0 0 0.75 0.0747 2 | ETA2 1 1 0 0.75 0.0482 2
ETA2 1 2 0 0.75 0.0093 2 | ETA2 2 0 0 0.5 0.0078 0 | M3 0 -1 0 0.5 0.0564 0
"""


@dataclass(frozen=True)
class _Table:
    """Parsed constituent table; rows are the astronomical constituents, then the compounds."""

    names: tuple[str, ...]
    index: dict[str, int]
    comparison: tuple[str, ...]
    doodson: FloatArray  # (k, 6) effective Doodson numbers, compounds included
    offset_cycles: FloatArray  # (k,)
    compound: FloatArray  # (k, n_astronomical) coefficients on the astronomical constituents
    sat_owner: np.ndarray  # (n_sat,) row of the astronomical constituent
    sat_doodson: FloatArray  # (n_sat, 3) changes of p, N', p'
    sat_phase_cycles: FloatArray  # (n_sat,)
    sat_ratio: FloatArray  # (n_sat,)
    sat_lat_code: np.ndarray  # (n_sat,) 0 none, 1 diurnal, 2 semidiurnal


def _parse_shallow() -> list[tuple[str, str, list[tuple[str, float]]]]:
    rows = []
    for line in _SHALLOW_TABLE.strip().splitlines():
        name, comparison, *terms = line.split()
        parents = [(term.split("*")[0], float(term.split("*")[1])) for term in terms]
        rows.append((name, "" if comparison == "-" else comparison, parents))
    return rows


@cache
def _table() -> _Table:
    base = [row[0] for row in _ASTRONOMICAL]
    shallow = _parse_shallow()
    names = (*base, *(row[0] for row in shallow))
    index = {name: i for i, name in enumerate(names)}
    compound = np.zeros((len(names), len(base)))
    compound[: len(base)] = np.eye(len(base))
    for i, (_, _, parents) in enumerate(shallow, start=len(base)):
        for parent, coefficient in parents:
            compound[i, index[parent]] += coefficient
    sats = [
        row.split()
        for chunk in _SATELLITE_TABLE.split("\n")
        for row in chunk.split("|")
        if row.strip()
    ]
    return _Table(
        names=names,
        index=index,
        comparison=(*(row[3] for row in _ASTRONOMICAL), *(row[1] for row in shallow)),
        doodson=compound @ np.array([row[1] for row in _ASTRONOMICAL], dtype=np.float64),
        offset_cycles=compound @ np.array([row[2] for row in _ASTRONOMICAL], dtype=np.float64),
        compound=compound,
        sat_owner=np.array([index[s[0]] for s in sats]),
        sat_doodson=np.array([s[1:4] for s in sats], dtype=np.float64),
        sat_phase_cycles=np.array([s[4] for s in sats], dtype=np.float64),
        sat_ratio=np.array([s[5] for s in sats], dtype=np.float64),
        sat_lat_code=np.array([int(s[6]) for s in sats]),
    )


def constituent_names() -> tuple[str, ...]:
    """Return the names of all known constituents, astronomical first, then compounds."""
    return _table().names


def _rows(names: tuple[str, ...] | list[str]) -> np.ndarray:
    table = _table()
    unknown = [name for name in names if name not in table.index]
    if unknown:
        msg = f"unknown constituent(s): {', '.join(unknown)}"
        raise ValueError(msg)
    return np.array([table.index[name] for name in names], dtype=np.intp)


def rayleigh_comparison(names: tuple[str, ...]) -> tuple[str, ...]:
    """Return the neighbour each constituent must be resolved from ("" if never chosen automatically)."""
    table = _table()
    return tuple(table.comparison[i] for i in _rows(names))


def astronomical_arguments(times_s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean longitudes and their rates.

    Parameters
    ----------
    times_s : (n,) UTC seconds since the Unix epoch

    Returns
    -------
    (6, n) tau, s, h, p, N', p' in cycles, and (6, n) their rates in cycles per day.
    """
    days = np.asarray(times_s, dtype=np.float64) / _SECONDS_PER_DAY
    d = days + _EPOCH_OFFSET_DAYS
    big_d = d / 10000.0
    coef = np.array(_MEAN_LONGITUDE_DEG) / 360.0
    powers = np.stack((np.ones_like(d), d, big_d**2, big_d**3))
    rates = np.stack((np.zeros_like(d), np.ones_like(d), 2.0e-4 * big_d, 3.0e-4 * big_d**2))
    longitudes = np.fmod(coef @ powers, 1.0)
    longitude_rates = coef @ rates
    tau = np.mod(days, 1.0) + longitudes[1] - longitudes[0]
    tau_rate = 1.0 + longitude_rates[1] - longitude_rates[0]
    return np.vstack((tau, longitudes)), np.vstack((tau_rate, longitude_rates))


def speed_cph(names: tuple[str, ...], at_s: float = 946728000.0) -> FloatArray:
    """Angular speeds in cycles per hour (at 2000-01-01 12:00 UTC unless ``at_s`` says otherwise)."""
    _, rates = astronomical_arguments(np.array([at_s]))
    speed: FloatArray = (_table().doodson[_rows(names)] @ rates[:, 0]) / 24.0
    return speed


def equilibrium_argument(
    names: tuple[str, ...], times_s: FloatArray, *, wrap: bool = True
) -> FloatArray:
    """Astronomical argument V (cycles) of each constituent at each time, shape (n, k).

    In [0, 1) when ``wrap``; unwrapped (a few cycles at most, as the mean longitudes are
    already reduced) otherwise, which is enough for a cosine and saves time.
    """
    table = _table()
    rows = _rows(names)
    astro, _ = astronomical_arguments(times_s)
    phase: FloatArray = astro.T @ table.doodson[rows].T + table.offset_cycles[rows]
    return np.mod(phase, 1.0) if wrap else phase


def _nodal_astronomical(astro: FloatArray, lat: float) -> ComplexArray:
    """Complex nodal factors of the astronomical constituents, shape (n_astronomical, m)."""
    table = _table()
    lat_eff = max(abs(lat), _MIN_ABS_LAT_DEG) * (-1.0 if lat < 0 else 1.0)
    sin_lat = np.sin(np.deg2rad(lat_eff))
    lat_scale = np.select(
        [table.sat_lat_code == 1, table.sat_lat_code == 2],
        [
            _LAT_FACTOR_DIURNAL * (1.0 - 5.0 * sin_lat**2) / sin_lat,
            _LAT_FACTOR_SEMIDIURNAL * sin_lat,
        ],
        1.0,
    )
    arg = table.sat_doodson @ astro[3:6] + table.sat_phase_cycles[:, None]
    terms = (table.sat_ratio * lat_scale)[:, None] * np.exp(2j * np.pi * arg)
    n_base = table.compound.shape[1]
    owner = np.zeros((n_base, terms.shape[0]))
    owner[table.sat_owner, np.arange(terms.shape[0])] = 1.0
    factor: ComplexArray = 1.0 + owner @ terms
    return factor


def nodal_complex(names: tuple[str, ...], times_s: FloatArray, lat: float) -> ComplexArray:
    """Complex nodal correction ``f * exp(2 pi i u)`` of each constituent.

    Parameters
    ----------
    names : (k,) constituent names
    times_s : (n,) UTC seconds since the Unix epoch; finite
    lat : latitude of the station, degrees N

    Returns
    -------
    (n, k) complex factor: its modulus is f (dimensionless), its argument 2 pi u (u in cycles).
    """
    table = _table()
    rows = _rows(names)
    t = np.asarray(times_s, dtype=np.float64)
    start = float(np.min(t)) if t.size else 0.0
    span = float(np.max(t)) - start if t.size else 0.0
    n_grid = int(np.ceil(span / NODAL_GRID_STEP_S)) + 2
    grid = start + NODAL_GRID_STEP_S * np.arange(n_grid, dtype=np.float64)
    astro, _ = astronomical_arguments(grid)
    base = _nodal_astronomical(astro, lat)
    coefficient = table.compound[rows]
    log_f = np.abs(coefficient) @ np.log(np.abs(base))
    u_cycles = coefficient @ (np.angle(base) / (2.0 * np.pi))
    factor = np.exp(log_f + 2j * np.pi * u_cycles).T  # (m, k)
    position = (t - start) / NODAL_GRID_STEP_S
    left = np.clip(np.floor(position).astype(np.intp), 0, n_grid - 2)
    weight = (position - left)[:, None]
    result: ComplexArray = factor[left] * (1.0 - weight) + factor[left + 1] * weight
    return result


def nodal_factors(
    names: tuple[str, ...], times_s: FloatArray, lat: float
) -> tuple[FloatArray, FloatArray]:
    """Nodal amplitude factor f (n, k) and phase correction u (n, k, cycles); see `nodal_complex`."""
    factor = nodal_complex(names, times_s, lat)
    return np.abs(factor), np.angle(factor) / (2.0 * np.pi)
