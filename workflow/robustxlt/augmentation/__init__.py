"""Augmentation stage (rules synonyms, augment): takes the English training file and writes the synonym table
resources/synonyms/en.json and each synonym_augmentation method's augmented copy
results/{task}/augmented/{method}/seed{seed}/train-en.tsv.

Modules:
    synonyms      the English synonym table
    substitution  synonym substitution: the augmented training file of a run
"""
