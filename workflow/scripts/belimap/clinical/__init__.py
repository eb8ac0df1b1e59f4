"""The clinical layer: clinical table in, eligibility, disease activity, response, CONSORT.

``facts`` reads the clinical facts (resources/clinical), ``table`` reads and validates the clinical
table (refusing direct identifiers), ``activity`` scores SLEDAI-2K, classification criteria, SRI-4
and LLDAS, ``eligibility`` evaluates a trial's criteria written as data, ``consort`` counts the flow
of patients and specimens.
"""
