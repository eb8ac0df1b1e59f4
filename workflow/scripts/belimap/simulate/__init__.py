"""The demo cohort simulator: deterministic raw files plus the truth to score the pipeline against.

``cohort`` draws the study design and the true composition of every specimen once; the modality
writers (``scrna``, ``flow``, ``bcr``, ``clinical``) all start from it so that the same specimen
tells the same story in every modality.
"""
