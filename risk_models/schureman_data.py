"""Data of the Schureman / Rijkswaterstaat constituent table; parsed by `risk_models.schureman`.

Arguments, u and f of the base constituents follow Schureman (1958), "Manual of harmonic analysis
and prediction of tides", US Coast and Geodetic Survey Special Publication 98, Table 2, in the form
Rijkswaterstaat uses them (as tabulated by Deltares/hatyan, ``data_schureman_harmonic.csv``). The
compounds are the Rijkswaterstaat relations (hatyan ``data_schureman_shallowrelations.csv``) of
the 94-constituent standard set for the North Sea ("year" list) and of the shorter standard lists.
Nothing here computes.
"""

#: name, T S H P P1 (Schureman's solar notation: T = hour angle of the mean sun + 180 degrees),
#: extra phase (degrees), u as terms of xi, nu, Q, Qu, R, nuK1 (= nu'), nuK2 (= 2 nu''), and the
#: f formula (Schureman eq. 73-79, or M1, K1, L2, K2, M1C) with its power.
_BASE_TABLE = """
SA      0  0  1  0  0    0  -               1
SSA     0  0  2  0  0    0  -               1
MSM     0  1 -2  1  0    0  -               73
MM      0  1  0 -1  0    0  -               73
MSF     0  2 -2  0  0    0  -               73
MF      0  2  0  0  0    0  xi*-2           74
2Q1     1 -4  1  2  0   90  xi*2,nu*-1      75
SIGMA1  1 -4  3  0  0   90  xi*2,nu*-1      75
Q1      1 -3  1  1  0   90  xi*2,nu*-1      75
RO1     1 -3  3 -1  0   90  xi*2,nu*-1      75
O1      1 -2  1  0  0   90  xi*2,nu*-1      75
TAU1    1 -2  3  0  0  -90  nu*-1           76
M1C     1 -1  1  0  0    0  xi*1,nu*-1      M1C
M1      1 -1  1  1  0  -90  nu*-1,Qu*-1     M1
CHI1    1 -1  3 -1  0  -90  nu*-1           76
PI1     1  0 -2  0  1   90  -               1
P1      1  0 -1  0  0   90  -               1
S1      1  0  0  0  0    0  -               1
K1      1  0  1  0  0  -90  nuK1*-1         K1
PSI1    1  0  2  0 -1  -90  -               1
FI1     1  0  3  0  0  -90  -               1
THETA1  1  1 -1  1  0  -90  nu*-1           76
J1      1  1  1 -1  0  -90  nu*-1           76
OO1     1  2  1  0  0  -90  xi*-2,nu*-1     77
OQ2     2 -5  2  1  0  180  xi*4,nu*-2      75^2
EPS2    2 -5  4  1  0    0  xi*2,nu*-2      78
2N2     2 -4  2  2  0    0  xi*2,nu*-2      78
MU2     2 -4  4  0  0    0  xi*2,nu*-2      78
N2      2 -3  2  1  0    0  xi*2,nu*-2      78
NU2     2 -3  4 -1  0    0  xi*2,nu*-2      78
M2      2 -2  2  0  0    0  xi*2,nu*-2      78
LABDA2  2 -1  0  1  0  180  xi*2,nu*-2      78
L2      2 -1  2 -1  0  180  xi*2,nu*-2,R*-1 L2
T2      2  0 -1  0  1    0  -               1
S2      2  0  0  0  0    0  -               1
R2      2  0  1  0 -1  180  -               1
K2      2  0  2  0  0    0  nuK2*-1         K2
ETA2    2  1  2 -1  0    0  nu*-2           79
M3      3 -3  3  0  0    0  xi*3,nu*-3      78^1.5
"""
#: "name parent*coefficient ...": the Rijkswaterstaat compounds (f multiplies |coefficient|
#: powers of the parents' f; V and u add with the coefficients).
_COMPOUND_TABLE = """
SM       S2*1 M2*-1
3MKS2    M2*3 K2*-1 S2*-1
3MS2     M2*3 S2*-2
MNS2     M2*1 N2*1 S2*-1
2ML2S2   M2*2 L2*1 S2*-2
NLK2     N2*1 L2*1 K2*-1
MSK2     M2*1 S2*1 K2*-1
MPS2     M2*1 P1*1 S1*-1
MSP2     M2*1 P1*-1 S1*1
MKS2     M2*1 K2*1 S2*-1
2MN2     M2*2 N2*-1
MSN2     M2*1 S2*1 N2*-1
2SM2     S2*2 M2*-1
SKM2     S2*1 K2*1 M2*-1
NO3      N2*1 O1*1
MO3      M2*1 O1*1
2MK3     M2*2 K1*-1
2MP3     M2*2 P1*-1
SO3      S2*1 O1*1
MK3      M2*1 K1*1
SK3      S2*1 K1*1
4MS4     M2*4 S2*-2
2MNS4    M2*2 N2*1 S2*-1
3MS4     M2*3 S2*-1
MN4      M2*1 N2*1
2MLS4    M2*2 L2*1 S2*-1
2MSK4    M2*2 S2*1 K2*-1
M4       M2*2
SN4      S2*1 N2*1
3MN4     M2*3 N2*-1
MS4      M2*1 S2*1
MK4      M2*1 K2*1
2MSN4    M2*2 S2*1 N2*-1
S4       S2*2
SK4      S2*1 K2*1
MNO5     M2*1 N2*1 O1*1
3MK5     M2*3 K1*-1
2MP5     M2*2 P1*1
3MO5     M2*3 O1*-1
MSK5     M2*1 S2*1 K1*1
3KM5     K1*3 M2*1
3MNS6    M2*3 N2*1 S2*-1
2NM6     N2*2 M2*1
4MS6     M2*4 S2*-1
2MN6     M2*2 N2*1
2MNU6    M2*2 NU2*1
3MSK6    M2*3 S2*1 K2*-1
M6       M2*3
MSN6     M2*1 S2*1 N2*1
MKNU6    M2*1 K2*1 NU2*1
2MS6     M2*2 S2*1
2MK6     M2*2 K2*1
3MSN6    M2*3 S2*1 N2*-1
2SM6     S2*2 M2*1
MSK6     M2*1 S2*1 K2*1
S6       S2*3
2MNO7    M2*2 N2*1 O1*1
M7       M2*3 M1*1
2MSO7    M2*2 S2*1 O1*1
2(MN)8   M2*2 N2*2
3MN8     M2*3 N2*1
M8       M2*4
2MSN8    M2*2 S2*1 N2*1
2MNK8    M2*2 N2*1 K2*1
3MS8     M2*3 S2*1
3MK8     M2*3 K2*1
2(MS)8   M2*2 S2*2
2MSK8    M2*2 S2*1 K2*1
3MNK9    M2*3 N2*1 K1*1
4MK9     M2*4 K1*1
3MSK9    M2*3 S2*1 K1*1
4MN10    M2*4 N2*1
M10      M2*5
3MSN10   M2*3 S2*1 N2*1
4MS10    M2*4 S2*1
2(MS)N10 M2*2 S2*2 N2*1
3M2S10   M2*3 S2*2
4MSK11   M2*4 S2*1 K1*1
M12      M2*6
4MSN12   M2*4 S2*1 N2*1
5MS12    M2*5 S2*1
4M2S12   M2*4 S2*2
"""
#: Rijkswaterstaat x-factors: the nodal amplitude factor of these constituents is damped (or, for
#: a constituent without one, taken from M2) as ``f' = 1 + x (f - 1)`` (x = 0: no nodal factor;
#: 1: the full one). For a constituent whose f is 1, ``f' = 1 + x (f_M2 - 1)``.
RWS_X_FACTORS: dict[str, float] = {
    "MU2": 0.00,
    "N2": 0.00,
    "NU2": 0.80,
    "M2": 0.53,
    "2MN2": 0.20,
    "S2": -0.82,
    "M4": 0.70,
    "MS4": 0.00,
    "M6": 0.75,
    "2MS6": 0.20,
    "M8": 0.70,
    "3MS8": 0.60,
}
#: The Rijkswaterstaat standard lists by record length (without A0), as recommended for the North
#: Sea: a year or more (94 constituents), half a year (88), a month (21), a spring-neap cycle (14).
_YEAR_TEXT = """
SA SM Q1 O1 M1C P1 S1 K1 3MKS2 3MS2 OQ2 MNS2 2ML2S2 NLK2 MU2 N2 NU2 MSK2 MPS2 M2 MSP2 MKS2 LABDA2
2MN2 T2 S2 K2 MSN2 2SM2 SKM2 NO3 2MK3 2MP3 SO3 MK3 SK3 4MS4 2MNS4 3MS4 MN4 2MLS4 2MSK4 M4 3MN4 MS4
MK4 2MSN4 S4 MNO5 3MK5 2MP5 3MO5 MSK5 3KM5 3MNS6 2NM6 4MS6 2MN6 2MNU6 3MSK6 M6 MSN6 MKNU6 2MS6 2MK6
3MSN6 2SM6 MSK6 2MNO7 M7 2MSO7 2(MN)8 3MN8 M8 2MSN8 2MNK8 3MS8 3MK8 2(MS)8 2MSK8 3MNK9 4MK9 3MSK9
4MN10 M10 3MSN10 4MS10 2(MS)N10 3M2S10 4MSK11 M12 4MSN12 5MS12 4M2S12
"""
_MONTH_TEXT = "Q1 O1 K1 3MS2 MNS2 MU2 N2 M2 2MN2 S2 2SM2 3MS4 MN4 M4 MS4 2MN6 M6 2MS6 M8 3MS8 4MS10"
_SPRING_NEAP_TEXT = "O1 K1 MU2 M2 S2 2SM2 3MS4 M4 MS4 M6 2MS6 M8 3MS8 4MS10"
RWS_YEAR = tuple(_YEAR_TEXT.split())
RWS_HALF_YEAR = tuple(n for n in RWS_YEAR if n not in {"S1", "MSK2", "MPS2", "MSP2", "MKS2", "T2"})
RWS_MONTH = tuple(_MONTH_TEXT.split())
RWS_SPRING_NEAP = tuple(_SPRING_NEAP_TEXT.split())
